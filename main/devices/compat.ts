/**
 * Edge TPU compatibility check that needs no compiler: predicts, per op, whether `edgetpu_compiler` will map
 * it, from the documented rules (shared/reference/edgetpu-usb.md §3): 8-bit tensors, static shapes, at most
 * 3 non-1 innermost dimensions, the supported-ops table and its limits, and the partitioning rule — the compiler
 * makes one TPU segment, and the first unsupported op after it starts cuts everything after to the CPU.
 */
import type { TfliteModel, TfliteOperator, TfliteTensor } from '../tflite/model.ts';
import { EDGETPU_CUSTOM_OP } from './package.ts';

export interface OpPrediction {
  index: number;
  op: string;
  mapped: boolean;
  /** Why not (or "Mapped to Edge TPU"), worded like the compiler's Status column where one exists. */
  reason: string;
}

export interface CompatReport {
  ops: OpPrediction[];
  mappedCount: number;
  cpuCount: number;
  /** Index of the op that ends the TPU segment (the first unsupported op after it began), if any. */
  cutAt?: number;
  /** Whole-model problems (e.g. float model): shown before the table. */
  notes: string[];
}

/** Ops the Edge TPU maps (coral.ai models-intro table), with their checked limits. */
const SUPPORTED = new Set([
  'ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'EXPAND_DIMS', 'FULLY_CONNECTED',
  'L2_NORMALIZATION', 'LOGISTIC', 'LSTM', 'UNIDIRECTIONAL_SEQUENCE_LSTM', 'MAXIMUM', 'MINIMUM', 'MUL', 'MAX_POOL_2D', 'MEAN',
  'PACK', 'PAD', 'PRELU', 'QUANTIZE', 'REDUCE_MAX', 'REDUCE_MIN', 'RELU', 'RELU6', 'RELU_N1_TO_1', 'RESHAPE',
  'RESIZE_BILINEAR', 'RESIZE_NEAREST_NEIGHBOR', 'RSQRT', 'SLICE', 'SOFTMAX', 'SPACE_TO_DEPTH', 'SPLIT', 'SQUEEZE',
  'STRIDED_SLICE', 'SUB', 'SUM', 'TANH', 'TRANSPOSE', 'TRANSPOSE_CONV', 'SQUARED_DIFFERENCE',
]);
const NO_FUSED_ACTIVATION = new Set(['AVERAGE_POOL_2D', 'MAX_POOL_2D', 'CONCATENATION']);
const EIGHT_BIT = new Set(['INT8', 'UINT8']);

export const STATUS = {
  mapped: 'Mapped to Edge TPU',
  otherSubgraph: 'More than one subgraph is not supported',
  dataType: 'Operation is working on an unsupported data type',
  rank: 'Tensor has unsupported rank (up to 3 innermost dimensions mapped)',
  unsupported: 'Operation not supported by the Edge TPU',
} as const;

function opName(model: TfliteModel, op: TfliteOperator): string {
  const c = model.operatorCodes[op.opcodeIndex];
  return c?.builtin === 'CUSTOM' ? (c.customCode ?? 'CUSTOM') : (c?.builtin ?? `opcode ${op.opcodeIndex}`);
}

function activationOf(op: TfliteOperator): string {
  const v = op.builtinOptions?.fusedActivationFunction;
  return v === undefined || v === 0 || v === 'NONE' ? 'NONE' : String(v);
}

/** The reason this op cannot map on its own, or undefined if the rules allow it. */
function opProblem(model: TfliteModel, sgIndex: number, op: TfliteOperator): string | undefined {
  const sg = model.subgraphs[sgIndex]!;
  const name = opName(model, op);
  if (!SUPPORTED.has(name)) return `${STATUS.unsupported}: ${name}`;
  const tensor = (i: number): TfliteTensor | undefined => (i >= 0 ? sg.tensors[i] : undefined);
  const isConst = (t: TfliteTensor) => t.buffer > 0 && (model.buffers[t.buffer]?.length ?? 0) > 0;
  const activations = [...op.inputs, ...op.outputs].map(tensor).filter((t): t is TfliteTensor => !!t && !isConst(t));
  for (const t of activations) {
    // LSTM state may be int16; everything else that flows must be 8-bit.
    const okType = EIGHT_BIT.has(t.type) || (t.isVariable && t.type === 'INT16') || (name === 'QUANTIZE' && t.type === 'INT16');
    if (!okType) return `${STATUS.dataType} (tensor "${t.name}" is ${t.type}; the Edge TPU needs int8/uint8)`;
    if (t.shapeSignature?.some((d, i) => d < 0 && i > 0) || t.shape.some((d) => d < 0)) return `Tensor "${t.name}" has a dynamic shape; the Edge TPU needs static shapes`;
    const outer = t.shape.slice(0, Math.max(0, t.shape.length - 3));
    if (outer.some((d) => d > 1)) return `${STATUS.rank}: "${t.name}" is [${t.shape.join(',')}]`;
  }
  for (const i of op.inputs) {
    const t = tensor(i);
    if (t && isConst(t) && !['INT8', 'UINT8', 'INT32', 'INT16'].includes(t.type)) return `${STATUS.dataType} (constant "${t.name}" is ${t.type})`;
  }
  if (NO_FUSED_ACTIVATION.has(name) && activationOf(op) !== 'NONE') return `${name} with a fused ${activationOf(op)} activation is not supported`;
  const o = op.builtinOptions ?? ({} as Record<string, unknown>);
  if ((name === 'CONV_2D' || name === 'DEPTHWISE_CONV_2D') && (o.dilationWFactor ?? 1) !== (o.dilationHFactor ?? 1)) return `${name} needs the same dilation in x and y`;
  if (name === 'FULLY_CONNECTED' && o.weightsFormat !== undefined && o.weightsFormat !== 0 && o.weightsFormat !== 'DEFAULT') return 'FULLY_CONNECTED needs the default weights format';
  if (name === 'SOFTMAX') {
    const t = tensor(op.inputs[0]!);
    const nonOne = t ? t.shape.filter((d) => d > 1) : [];
    if (nonOne.length > 1) return `SOFTMAX on a ${nonOne.length}-D input; only 1-D inputs are supported`;
    if ((nonOne[0] ?? 1) > 16000) return `SOFTMAX over ${nonOne[0]} elements (limit 16,000)`;
  }
  if (name === 'STRIDED_SLICE') {
    const strides = tensor(op.inputs[3] ?? -1);
    const data = strides ? model.buffers[strides.buffer] : undefined;
    if (data && data.length >= 4) {
      const v = new Int32Array(data.slice().buffer);
      if ([...v].some((s) => s !== 1)) return 'STRIDED_SLICE needs all strides = 1';
    }
    if ((o.ellipsisMask ?? 0) !== 0 || (o.newAxisMask ?? 0) !== 0) return 'STRIDED_SLICE needs ellipsis and new-axis masks = 0';
  }
  if (name === 'CONCATENATION') {
    const consts = op.inputs.map(tensor).filter((t): t is TfliteTensor => !!t && isConst(t));
    if (consts.length && (op.inputs.length > 2 || consts.some((t) => model.buffers[t.buffer]!.some((b) => b !== 0))))
      return 'CONCATENATION with a constant input needs exactly 2 inputs and an all-zero constant';
  }
  return undefined;
}

/** Predicts, for the ops of subgraph 0 in execution order, what the compiler will map. */
export function predictEdgeTpu(model: TfliteModel): CompatReport {
  const sg = model.subgraphs[0];
  const notes: string[] = [];
  if (!sg) return { ops: [], mappedCount: 0, cpuCount: 0, notes: ['The model has no subgraph.'] };
  if (sg.operators.some((op) => opName(model, op) === EDGETPU_CUSTOM_OP)) notes.push('This model is already compiled for the Edge TPU.');
  if (sg.inputs.some((i) => sg.tensors[i]?.type === 'FLOAT32')) notes.push('The model has float inputs: the QUANTIZE/DEQUANTIZE at its edges run on the CPU. Fully integer-quantize it (int8 PTQ or QAT) for the Edge TPU.');
  let state: 'before' | 'in' | 'after' = 'before';
  let cutAt: number | undefined;
  const ops = sg.operators.map((op, index): OpPrediction => {
    const name = opName(model, op);
    const problem = opProblem(model, 0, op);
    if (problem) {
      if (state === 'in') {
        state = 'after';
        cutAt = index;
      }
      return { index, op: name, mapped: false, reason: problem };
    }
    if (state === 'after') return { index, op: name, mapped: false, reason: `${STATUS.otherSubgraph} (op ${cutAt} ${sg.operators[cutAt!] ? opName(model, sg.operators[cutAt!]!) : ''} cut the Edge TPU part here)` };
    state = 'in';
    return { index, op: name, mapped: true, reason: STATUS.mapped };
  });
  const mappedCount = ops.filter((o) => o.mapped).length;
  return { ops, mappedCount, cpuCount: ops.length - mappedCount, ...(cutAt !== undefined ? { cutAt } : {}), notes };
}

/**
 * What the compiler actually did, from a (model, compiled model) pair: an op of the original stayed on the CPU
 * if the compiled graph still has a non-custom op producing its outputs (matched by tensor name).
 */
export function actualMapping(original: TfliteModel, compiled: TfliteModel): boolean[] {
  const sg = original.subgraphs[0]!;
  const csg = compiled.subgraphs[0]!;
  const cpuOutputs = new Set<string>();
  for (const op of csg.operators) {
    if (opName(compiled, op) === EDGETPU_CUSTOM_OP) continue;
    for (const o of op.outputs) if (o >= 0) cpuOutputs.add(csg.tensors[o]!.name);
  }
  return sg.operators.map((op) => !op.outputs.some((o) => o >= 0 && cpuOutputs.has(sg.tensors[o]!.name)));
}

export function formatCompatReport(r: CompatReport): string {
  const lines = [...r.notes];
  const w = Math.max(8, ...r.ops.map((o) => o.op.length));
  lines.push(`${'#'.padStart(4)}  ${'Op'.padEnd(w)}  Edge TPU  Reason`);
  for (const o of r.ops) lines.push(`${String(o.index).padStart(4)}  ${o.op.padEnd(w)}  ${o.mapped ? 'yes     ' : 'no      '}  ${o.mapped ? '' : o.reason}`);
  lines.push(`${r.mappedCount} of ${r.ops.length} ops predicted on the Edge TPU, ${r.cpuCount} on the CPU.`);
  return lines.join('\n');
}
