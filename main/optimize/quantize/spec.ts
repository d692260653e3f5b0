/**
 * The TFLite int8 quantization spec as data: ONE place that says, per op, which inputs are weights (and along
 * which axis they are per-channel), where the bias is, and what the output parameters must be.
 * Source: quantization_spec.md (1b32f3ff) + legacy operator_property.cc, as summarised in reference
 * quantization.md §1. Used by the quantizer (to choose parameters) and by `checkInt8Spec` (to validate a
 * quantized graph). Op versions are NOT here: they belong to the .tflite writer's opVersion module.
 */
import type { Graph, Op, Tensor } from '../../model/ir.ts';
import { WEIGHT_QMAX } from './math.ts';

/** How an op's output quantization is decided. */
export type OutputRule =
  /** Own parameters from calibration. */
  | { kind: 'calibrated' }
  /** Fixed by the spec (the kernel assumes them). int16 variant for 16×8 mode. */
  | { kind: 'fixed'; int8: { scale: number; zeroPoint: number }; int16: { scale: number; zeroPoint: number } }
  /** Output must have exactly the input's (first activation input's) scale and zero point. */
  | { kind: 'same-as-input' }
  /** Output is not quantized (indices, booleans, shapes). */
  | { kind: 'not-quantized' };

export interface WeightRule {
  /** Input index of the constant weight. */
  input: number;
  /** Quantized dimension for per-channel weights in full-integer mode; undefined → per-tensor. */
  axis?: number;
  /** Whether per-tensor is also allowed by the spec (FC: spec says per-tensor, converter now per-channel). */
  perTensorAllowed: boolean;
}

export interface OpRule {
  op: string;
  /** Indices of inputs that carry int8 activations (others are weights, bias or non-quantized operands). */
  activationInputs: number[] | 'all';
  weight?: WeightRule;
  /** Input index of the int32 bias (scale = s_in × s_w[c], zp 0). */
  bias?: number;
  output: OutputRule;
  /** All activation inputs must share the output's scale/zp (CONCATENATION). */
  inputsShareOutputParams?: boolean;
  /** Dynamic-range (hybrid) mode: per-channel axis for the weight, or 'per-tensor'. Absent → not hybrid. */
  dynamicRange?: { axis?: number };
  note?: string;
}

const CALIBRATED: OutputRule = { kind: 'calibrated' };
const SAME: OutputRule = { kind: 'same-as-input' };
const NOT_Q: OutputRule = { kind: 'not-quantized' };
const fixed = (s8: number, z8: number, s16 = 1 / 32768, z16 = 0): OutputRule => ({
  kind: 'fixed',
  int8: { scale: s8, zeroPoint: z8 },
  int16: { scale: s16, zeroPoint: z16 },
});

const RULES: OpRule[] = [
  {
    op: 'CONV_2D', activationInputs: [0], weight: { input: 1, axis: 0, perTensorAllowed: true }, bias: 2,
    output: CALIBRATED, dynamicRange: { axis: 0 },
  },
  {
    op: 'DEPTHWISE_CONV_2D', activationInputs: [0], weight: { input: 1, axis: 3, perTensorAllowed: true }, bias: 2,
    output: CALIBRATED, dynamicRange: { axis: 3 }, note: 'weights [1,H,W,C·M], per-channel along dim 3',
  },
  {
    op: 'TRANSPOSE_CONV', activationInputs: [2], weight: { input: 1, axis: 0, perTensorAllowed: true }, bias: 3,
    output: CALIBRATED, dynamicRange: { axis: 0 }, note: 'input 0 is the output shape, input 2 the activation',
  },
  {
    op: 'FULLY_CONNECTED', activationInputs: [0], weight: { input: 1, axis: 0, perTensorAllowed: true }, bias: 2,
    output: CALIBRATED, dynamicRange: {},
    note: 'spec doc says per-tensor; current converters default to per-channel dim 0 (TFLM needs per-tensor before tflite-micro#2673)',
  },
  { op: 'BATCH_MATMUL', activationInputs: [0, 1], output: CALIBRATED, dynamicRange: {} },
  { op: 'ADD', activationInputs: [0, 1], output: CALIBRATED },
  { op: 'SUB', activationInputs: [0, 1], output: CALIBRATED },
  { op: 'MUL', activationInputs: [0, 1], output: CALIBRATED },
  { op: 'MEAN', activationInputs: [0], output: CALIBRATED },
  { op: 'SUM', activationInputs: [0], output: CALIBRATED },
  { op: 'HARD_SWISH', activationInputs: [0], output: CALIBRATED },
  { op: 'RELU', activationInputs: [0], output: CALIBRATED },
  { op: 'RELU6', activationInputs: [0], output: CALIBRATED },
  { op: 'RELU_N1_TO_1', activationInputs: [0], output: CALIBRATED },
  { op: 'LEAKY_RELU', activationInputs: [0], output: CALIBRATED },
  { op: 'PRELU', activationInputs: [0], weight: { input: 1, perTensorAllowed: true }, output: CALIBRATED, note: 'alpha is input 1' },
  { op: 'QUANTIZE', activationInputs: [0], output: CALIBRATED },
  { op: 'DEQUANTIZE', activationInputs: [0], output: NOT_Q },
  // Fixed output parameters: the kernels assume these.
  { op: 'SOFTMAX', activationInputs: [0], output: fixed(1 / 256, -128) },
  { op: 'LOGISTIC', activationInputs: [0], output: fixed(1 / 256, -128) },
  { op: 'TANH', activationInputs: [0], output: fixed(1 / 128, 0) },
  { op: 'L2_NORMALIZATION', activationInputs: [0], output: fixed(1 / 128, 0) },
  { op: 'LOG_SOFTMAX', activationInputs: [0], output: fixed(16 / 256, 127) },
  // Same scale/zero point in and out.
  { op: 'AVERAGE_POOL_2D', activationInputs: [0], output: SAME },
  { op: 'MAX_POOL_2D', activationInputs: [0], output: SAME },
  { op: 'CONCATENATION', activationInputs: 'all', output: SAME, inputsShareOutputParams: true },
  ...[
    'RESHAPE', 'SQUEEZE', 'TRANSPOSE', 'SLICE', 'STRIDED_SLICE', 'GATHER', 'PAD', 'PADV2', 'MIRROR_PAD',
    'SPACE_TO_DEPTH', 'DEPTH_TO_SPACE', 'BATCH_TO_SPACE_ND', 'SPACE_TO_BATCH_ND', 'SPLIT', 'SPLIT_V', 'PACK',
    'UNPACK', 'MAXIMUM', 'MINIMUM', 'REDUCE_MAX', 'REDUCE_MIN', 'RESIZE_BILINEAR', 'RESIZE_NEAREST_NEIGHBOR',
    'EXPAND_DIMS', 'BROADCAST_TO',
  ].map((op): OpRule => ({
    op,
    // Only the data operand is an activation; shapes, paddings, indices, axes stay int32.
    activationInputs: op === 'SPLIT' ? [1] : op === 'PACK' || op === 'MAXIMUM' || op === 'MINIMUM' ? 'all' : [0],
    output: SAME,
    inputsShareOutputParams: op === 'PACK' || op === 'MAXIMUM' || op === 'MINIMUM',
  })),
  { op: 'ARG_MAX', activationInputs: [0], output: NOT_Q },
  { op: 'ARG_MIN', activationInputs: [0], output: NOT_Q },
  { op: 'SHAPE', activationInputs: [0], output: NOT_Q },
  ...['EQUAL', 'NOT_EQUAL', 'LESS', 'LESS_EQUAL', 'GREATER', 'GREATER_EQUAL'].map(
    (op): OpRule => ({ op, activationInputs: [0, 1], output: NOT_Q }),
  ),
];

export const INT8_OP_RULES: ReadonlyMap<string, OpRule> = new Map(RULES.map((r) => [r.op, r]));

/** The rule for an op type, or undefined when the op has no int8 kernel in our spec table (→ float fallback). */
export function ruleFor(opType: string): OpRule | undefined {
  return INT8_OP_RULES.get(opType);
}

/** Dynamic-range mode: which weight input to quantize and along which axis, or undefined if the op is not hybrid. */
export function dynamicRangeWeight(opType: string): { input: number; axis?: number } | undefined {
  const r = INT8_OP_RULES.get(opType);
  if (!r?.dynamicRange) return undefined;
  return { input: r.weight?.input ?? 1, axis: r.dynamicRange.axis };
}

export function activationInputIndices(rule: OpRule, op: Op): number[] {
  return rule.activationInputs === 'all' ? op.inputs.map((_, i) => i) : rule.activationInputs;
}

export interface SpecViolation {
  op: string;
  opType: string;
  tensor: string;
  message: string;
}

/** Relative tolerance for comparing scales stored as float32 in a .tflite file. */
const SCALE_RTOL = 1e-5;
const close = (a: number, b: number) => Math.abs(a - b) <= SCALE_RTOL * Math.max(Math.abs(a), Math.abs(b));

/**
 * Walks a fully int8-quantized graph and lists every place it breaks the spec: weight type/range/zero point/axis,
 * bias type/scale/zero point, activation types, fixed output params, same-scale ops. Ops without a rule are
 * reported (an integer-only model cannot contain them). Returns [] for a conforming graph.
 */
export function checkInt8Spec(graph: Graph): SpecViolation[] {
  const out: SpecViolation[] = [];
  const get = (name: string): Tensor | undefined => (name === '' ? undefined : graph.tensors.get(name));
  for (const op of graph.ops) {
    const bad = (tensor: string, message: string) => out.push({ op: op.name, opType: op.type, tensor, message });
    const rule = ruleFor(op.type);
    if (!rule) {
      bad('', `no int8 rule for op type ${op.type}`);
      continue;
    }
    const actIdx = activationInputIndices(rule, op);
    const firstAct = get(op.inputs[actIdx[0]]);
    for (const i of actIdx) {
      const t = get(op.inputs[i]);
      if (!t) continue;
      if (t.dtype !== 'int8' || !t.quant || t.quant.scale.length !== 1) {
        bad(t.name, `activation input must be int8 per-tensor, is ${t.dtype}${t.quant ? ` with ${t.quant.scale.length} scales` : ' without quantization'}`);
      }
    }
    if (rule.weight) {
      const w = get(op.inputs[rule.weight.input]);
      if (w) checkWeight(w, rule.weight, bad);
      if (rule.bias !== undefined) {
        const b = get(op.inputs[rule.bias]);
        if (b && w?.quant && firstAct?.quant) checkBias(b, firstAct.quant.scale[0], w.quant.scale, bad);
      }
    }
    for (const name of op.outputs) {
      const t = get(name);
      if (!t) continue;
      if (rule.output.kind === 'not-quantized') continue;
      if (t.dtype !== 'int8' || !t.quant || t.quant.scale.length !== 1) {
        bad(name, `output must be int8 per-tensor, is ${t.dtype}`);
        continue;
      }
      const [s, z] = [t.quant.scale[0], t.quant.zeroPoint[0]];
      if (rule.output.kind === 'fixed') {
        const f = rule.output.int8;
        if (!close(s, f.scale) || z !== f.zeroPoint) {
          bad(name, `${op.type} output must have scale ${f.scale} zero point ${f.zeroPoint}, has ${s} / ${z}`);
        }
      } else if (rule.output.kind === 'same-as-input' && firstAct?.quant) {
        const share = rule.inputsShareOutputParams ? actIdx.map((i) => get(op.inputs[i])) : [firstAct];
        for (const inp of share) {
          if (!inp?.quant) continue;
          if (!close(inp.quant.scale[0], s) || inp.quant.zeroPoint[0] !== z) {
            bad(name, `${op.type} output params (${s}, ${z}) differ from input "${inp.name}" (${inp.quant.scale[0]}, ${inp.quant.zeroPoint[0]})`);
          }
        }
      }
    }
  }
  return out;
}

function checkWeight(w: Tensor, rule: WeightRule, bad: (tensor: string, msg: string) => void): void {
  if (w.dtype !== 'int8' || !w.quant) return bad(w.name, `weight must be int8 quantized, is ${w.dtype}`);
  const q = w.quant;
  if (q.zeroPoint.some((z) => z !== 0)) bad(w.name, 'weight zero points must all be 0 (symmetric)');
  if (q.scale.length > 1) {
    if (rule.axis === undefined) bad(w.name, 'weight must be per-tensor');
    else if (q.axis !== rule.axis) bad(w.name, `per-channel weight must use quantized dimension ${rule.axis}, uses ${q.axis}`);
    else if (q.scale.length !== w.shape[rule.axis]) bad(w.name, `has ${q.scale.length} scales for ${w.shape[rule.axis]} channels`);
  } else if (!rule.perTensorAllowed) bad(w.name, 'weight must be per-channel');
  if (w.data) {
    for (let i = 0; i < w.data.length; i++) {
      const v = Number(w.data[i]);
      if (v < -WEIGHT_QMAX || v > WEIGHT_QMAX) {
        bad(w.name, `weight value ${v} at index ${i} outside the narrow range [-127, 127]`);
        break;
      }
    }
  }
}

function checkBias(b: Tensor, inputScale: number, weightScales: number[], bad: (tensor: string, msg: string) => void): void {
  if (b.dtype !== 'int32' || !b.quant) return bad(b.name, `bias must be int32 quantized, is ${b.dtype}`);
  if (b.quant.zeroPoint.some((z) => z !== 0)) bad(b.name, 'bias zero points must be 0');
  for (let c = 0; c < b.quant.scale.length; c++) {
    const expect = inputScale * weightScales[weightScales.length === 1 ? 0 : c];
    if (!close(b.quant.scale[c], expect)) {
      bad(b.name, `bias scale[${c}] = ${b.quant.scale[c]} but input_scale × weight_scale = ${expect}`);
      break;
    }
  }
}
