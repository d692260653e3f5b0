/**
 * IR → TFLite (the exporter). Writes float32 graphs and, when tensors carry them, quantized types and
 * parameters (int8/uint8/int16/int32 constants, per-channel scales with quantized_dimension) so the quantizer can
 * export through the same path. Op versions come from `opVersion`, `min_runtime_version` from the op versions.
 */
import { PSEUDO_OPS, elementCount, validateGraph, type Graph, type Op, type Tensor } from '../model/ir.ts';
import { ENUMS, OPTIONS_TABLES, OP_OPTIONS, builtinOpCode, fieldDefault, optionsTableIndex } from './schema.ts';
import { bytesOf, dtypeBytes, tfliteTypeOf } from './dtypes.ts';
import { minRuntimeVersion, opVersion, runtimeVersionBuffer, type OpTensorSig } from './op-version.ts';
import { writeTflite } from './writer.ts';
import type { BuiltinOptions, OptionValue, TfliteModel, TfliteOperator, TfliteOperatorCode, TfliteTensor } from './model.ts';

export interface ExportOptions {
  /** Model description string (default "Edgewise"). */
  description?: string;
  /** Signature key of the single signature (default "serving_default"). */
  signatureKey?: string;
}

/** Input count ranges of the ops the importers produce (a clear error beats a runtime "node failed to prepare"). */
const ARITY: Record<string, [number, number]> = {
  CONV_2D: [2, 3], DEPTHWISE_CONV_2D: [2, 3], TRANSPOSE_CONV: [3, 4], FULLY_CONNECTED: [2, 3],
  ADD: [2, 2], SUB: [2, 2], MUL: [2, 2], CONCATENATION: [1, Infinity], PAD: [2, 2], RESHAPE: [1, 2],
  MEAN: [2, 2], REDUCE_MAX: [2, 2], MAX_POOL_2D: [1, 1], AVERAGE_POOL_2D: [1, 1], SOFTMAX: [1, 1],
  LOGISTIC: [1, 1], TANH: [1, 1], RELU: [1, 1], RELU6: [1, 1], LEAKY_RELU: [1, 1], PRELU: [2, 2], ELU: [1, 1],
  HARD_SWISH: [1, 1], RESIZE_NEAREST_NEIGHBOR: [2, 2], RESIZE_BILINEAR: [2, 2], QUANTIZE: [1, 1], DEQUANTIZE: [1, 1],
};

function opError(op: Op, problem: string): Error {
  return new Error(`Cannot export op "${op.name}" (${op.type}): ${problem}`);
}

/** Options table for an op, filled from its attrs (TFLite option names in camelCase) and schema defaults. */
function optionsFor(op: Op, graph: Graph): BuiltinOptions | null {
  const tableName = OP_OPTIONS[op.type];
  if (!tableName) return null;
  const def = OPTIONS_TABLES[optionsTableIndex(tableName)!]!;
  const options: BuiltinOptions = { type: tableName };
  for (const f of def.fields) {
    const v = op.attrs[f.name];
    if (v === undefined || v === null) options[f.name] = fieldDefault(f);
    else if (v instanceof Uint8Array || (Array.isArray(v) && v.some((x) => typeof x !== 'number'))) {
      throw opError(op, `attribute ${f.name} must be ${f.kind === 'ints' || f.kind === 'floats' ? 'a number array' : 'a scalar'}`);
    } else options[f.name] = v as OptionValue;
    const k = f.kind;
    if (typeof k === 'object' && !(ENUMS[k.enum] as readonly string[]).includes(String(options[f.name]))) {
      throw opError(op, `attribute ${f.name} = ${JSON.stringify(options[f.name])} is not one of ${ENUMS[k.enum].join(', ')}`);
    }
  }
  // Schema default 0 would make softmax a constant: the converter always writes beta.
  if (op.type === 'SOFTMAX' && op.attrs.beta === undefined) options.beta = 1;
  if (op.type === 'DEPTHWISE_CONV_2D' && op.attrs.depthMultiplier === undefined) {
    const input = graph.tensors.get(op.inputs[0]!), weights = graph.tensors.get(op.inputs[1]!);
    const inC = input?.shape.at(-1) ?? 0, outC = weights?.shape.at(-1) ?? 0;
    options.depthMultiplier = inC > 0 ? Math.max(1, Math.round(outC / inC)) : 1;
  }
  if (op.type === 'RESHAPE' && op.attrs.newShape === undefined && op.outputs[0]) {
    options.newShape = graph.tensors.get(op.outputs[0])?.shape ?? [];
  }
  return options;
}

/**
 * Rewrites what TFLite kernels cannot run as written, on a shallow copy of the graph:
 *  - a fused TANH activation (FULLY_CONNECTED/CONV kernels accept only NONE/RELU/RELU_N1_TO_1/RELU6) becomes
 *    the op without activation followed by a TANH op;
 *  - CONV_2D / DEPTHWISE_CONV_2D without bias get a zero bias (this runtime's conv kernels require input 2).
 */
function lowerForTflite(graph: Graph): Graph {
  const tensors = new Map(graph.tensors);
  const ops: Op[] = [];
  for (const original of graph.ops) {
    let op = original;
    if ((op.type === 'CONV_2D' || op.type === 'DEPTHWISE_CONV_2D') && (op.inputs[2] ?? '') === '' && op.inputs.length >= 2) {
      const weights = tensors.get(op.inputs[1]!);
      const input = tensors.get(op.inputs[0]!);
      if (weights && input) {
        const channels = weights.shape[op.type === 'CONV_2D' ? 0 : 3] ?? 0;
        const name = uniqueName(tensors, `${op.name}/zero_bias`);
        const quantized = weights.dtype === 'int8' || weights.dtype === 'uint8';
        const bias: Tensor = quantized
          ? {
              name, shape: [channels], dtype: 'int32', data: new Int32Array(channels),
              quant: {
                scale: Array.from({ length: channels }, (_, c) => (input.quant?.scale[0] ?? 1) * (weights.quant?.scale[weights.quant.scale.length > 1 ? c : 0] ?? 1)),
                zeroPoint: new Array<number>(channels).fill(0),
                ...(channels > 1 ? { axis: 0 } : {}),
              },
            }
          : { name, shape: [channels], dtype: 'float32', data: new Float32Array(channels) };
        tensors.set(name, bias);
        op = { ...op, inputs: [op.inputs[0]!, op.inputs[1]!, name] };
      }
    }
    if (op.attrs.fusedActivationFunction === 'TANH' && op.type !== 'UNIDIRECTIONAL_SEQUENCE_LSTM' && op.outputs.length === 1) {
      const out = tensors.get(op.outputs[0]!)!;
      const pre = uniqueName(tensors, `${op.name}/pre_tanh`);
      tensors.set(pre, { ...out, name: pre, data: undefined });
      ops.push({ ...op, outputs: [pre], attrs: { ...op.attrs, fusedActivationFunction: 'NONE' } });
      ops.push({ name: `${op.name}/tanh`, type: 'TANH', inputs: [pre], outputs: op.outputs, attrs: {}, ...(op.source ? { source: op.source } : {}) });
      continue;
    }
    ops.push(op);
  }
  return { ...graph, tensors, ops };
}

function uniqueName(tensors: Map<string, Tensor>, base: string): string {
  let name = base;
  for (let k = 1; tensors.has(name); k++) name = `${base}_${k}`;
  return name;
}

/** Builds the plain TFLite model for a graph. Throws an Error naming the op or tensor it cannot export. */
export function graphToTflite(source: Graph, opts: ExportOptions = {}): TfliteModel {
  for (const op of source.ops) {
    if (PSEUDO_OPS.has(op.type)) {
      throw opError(op, 'pseudo-op; run the graph passes (fold batch norm, drop dropout/identity) before export');
    }
  }
  validateGraph(source);
  const graph = lowerForTflite(source);

  const tensors: TfliteTensor[] = [];
  const buffers: Uint8Array[] = [new Uint8Array(0)];
  const index = new Map<string, number>();
  const addTensor = (name: string): number => {
    const known = index.get(name);
    if (known !== undefined) return known;
    const t = graph.tensors.get(name);
    if (!t) throw new Error(`Graph "${graph.name}" has no tensor named "${name}"`);
    index.set(name, tensors.length);
    tensors.push(toTfliteTensor(t, buffers));
    return tensors.length - 1;
  };
  graph.inputs.forEach(addTensor);

  const codes: TfliteOperatorCode[] = [];
  const codeIndex = new Map<string, number>();
  const operators: TfliteOperator[] = [];
  for (const op of graph.ops) {
    const arity = ARITY[op.type];
    const present = op.inputs.length;
    if (arity && (present < arity[0] || present > arity[1])) {
      throw opError(op, `expects ${arity[0]}${arity[1] === arity[0] ? '' : `–${arity[1]}`} inputs, has ${present}`);
    }
    const isCustom = op.type === 'CUSTOM';
    const builtinCode = builtinOpCode(op.type);
    if (builtinCode === undefined) throw opError(op, 'not a TFLite builtin op');
    if (isCustom && !op.customCode) throw opError(op, 'CUSTOM op without a customCode');

    const inputs = op.inputs.map((n) => (n === '' ? -1 : addTensor(n)));
    const outputs = op.outputs.map(addTensor);
    const intermediates = op.attrs.intermediates;
    if (intermediates !== undefined && !(Array.isArray(intermediates) && intermediates.every((n) => typeof n === 'string'))) {
      throw opError(op, 'attribute intermediates must be a list of tensor names');
    }
    const builtinOptions = isCustom ? null : optionsFor(op, graph);
    const sig = (i: number): OpTensorSig | null => {
      const t = i >= 0 ? tensors[i]! : null;
      if (!t) return null;
      const s: OpTensorSig = { type: t.type, shape: t.shape };
      if (t.quantization && t.quantization.scale.length > 1) s.perChannel = true;
      if (t.quantization?.scale.length === 1) s.scale = t.quantization.scale[0]!;
      return s;
    };
    const version = isCustom ? 1 : opVersion(op.type, {
      inputs: inputs.map(sig),
      outputs: outputs.map((i) => sig(i)!),
      options: builtinOptions,
    });
    const key = `${op.type}/${op.customCode ?? ''}/${version}`;
    let opcodeIndex = codeIndex.get(key);
    if (opcodeIndex === undefined) {
      opcodeIndex = codes.length;
      codeIndex.set(key, opcodeIndex);
      codes.push({ builtin: op.type, builtinCode, version, ...(isCustom ? { customCode: op.customCode! } : {}) });
    }
    operators.push({
      opcodeIndex,
      inputs,
      outputs,
      builtinOptions,
      ...(isCustom ? { customOptions: op.customOptions ?? new Uint8Array(0) } : {}),
      ...(intermediates?.length ? { intermediates: (intermediates as string[]).map(addTensor) } : {}),
    });
  }
  graph.outputs.forEach(addTensor);

  const metadata = [];
  const runtime = runtimeVersionBuffer(minRuntimeVersion(codes));
  if (runtime) {
    metadata.push({ name: 'min_runtime_version', buffer: buffers.length });
    buffers.push(runtime);
  }
  const inputIdx = graph.inputs.map((n) => index.get(n)!);
  const outputIdx = graph.outputs.map((n) => index.get(n)!);
  return {
    version: 3,
    description: opts.description ?? 'Edgewise',
    operatorCodes: codes,
    subgraphs: [{ name: 'main', tensors, inputs: inputIdx, outputs: outputIdx, operators }],
    buffers,
    metadata,
    signatureDefs: [{
      signatureKey: opts.signatureKey ?? 'serving_default',
      subgraphIndex: 0,
      inputs: inputIdx.map((i) => ({ name: tensors[i]!.name, tensorIndex: i })),
      outputs: outputIdx.map((i) => ({ name: tensors[i]!.name, tensorIndex: i })),
    }],
  };
}

function toTfliteTensor(t: Tensor, buffers: Uint8Array[]): TfliteTensor {
  const dynamic = t.shape.some((d) => d < 0);
  const out: TfliteTensor = {
    name: t.name,
    // Unknown (batch) dims are written as 1 with −1 in shape_signature, like the converter.
    shape: t.shape.map((d) => (d < 0 ? 1 : d)),
    type: tfliteTypeOf(t.dtype),
    buffer: 0,
    isVariable: t.isVariable === true,
  };
  if (dynamic) out.shapeSignature = [...t.shape];
  if (t.data) {
    const expected = elementCount(t.shape) * dtypeBytes(t.dtype);
    const bytes = bytesOf(t.data);
    if (bytes.length !== expected) {
      throw new Error(`Tensor "${t.name}" has shape [${t.shape.join(', ')}] of ${t.dtype} (${expected} bytes) but its data holds ${bytes.length} bytes`);
    }
    out.buffer = buffers.length;
    buffers.push(bytes);
  }
  if (t.quant) {
    const q = t.quant;
    if (q.scale.length !== q.zeroPoint.length) {
      throw new Error(`Tensor "${t.name}": ${q.scale.length} quantization scales but ${q.zeroPoint.length} zero points`);
    }
    const axis = q.axis ?? 0;
    if (q.scale.length > 1 && t.shape[axis] !== q.scale.length) {
      throw new Error(`Tensor "${t.name}": ${q.scale.length} per-channel scales do not match dimension ${axis} of shape [${t.shape.join(', ')}]`);
    }
    out.quantization = { scale: [...q.scale], zeroPoint: [...q.zeroPoint], min: q.min ?? [], max: q.max ?? [], quantizedDimension: axis };
  }
  return out;
}

/** Convenience: graph → `.tflite` bytes. */
export function exportTflite(graph: Graph, opts?: ExportOptions): Uint8Array {
  return writeTflite(graphToTflite(graph, opts));
}
