/**
 * Operator versions and the `min_runtime_version` metadata, in one place. The exporter and the quantizer both
 * ask `opVersion` which version a layout needs; runtimes refuse (op, version) pairs they do not know, and
 * XNNPACK/Edge TPU tools key off them. Rules: /work/shared/reference/tflite-format.md §9 (verified versions
 * first, then tensorflow/lite/tools/versioning/op_version.cc); runtime table: runtime_version.cc (§4).
 */
import type { TensorTypeName } from './schema.ts';
import type { BuiltinOptions } from './model.ts';

export interface OpTensorSig {
  type: TensorTypeName;
  shape?: number[];
  /** More than one scale (per-channel / per-axis quantization). */
  perChannel?: boolean;
  scale?: number;
}

export interface OpVersionContext {
  /** One entry per operator input; null = optional input not present (−1). */
  inputs: (OpTensorSig | null)[];
  outputs: OpTensorSig[];
  options?: BuiltinOptions | null;
}

const isQuant8 = (t: OpTensorSig | null | undefined) => t?.type === 'INT8';
const isFloat = (t: OpTensorSig | null | undefined) => t?.type === 'FLOAT32';
/** Ops whose only layout-dependent versions are v2 for int8 and v3 for int16. */
const INT8_V2 = new Set([
  'AVERAGE_POOL_2D', 'MAX_POOL_2D', 'CONCATENATION', 'SOFTMAX', 'LOGISTIC', 'TANH', 'LOG_SOFTMAX',
  'L2_NORMALIZATION', 'MEAN', 'SUM', 'REDUCE_MAX', 'REDUCE_MIN', 'PAD', 'PADV2', 'SPLIT', 'RELU', 'RELU6',
  'MAXIMUM', 'MINIMUM', 'STRIDED_SLICE', 'TRANSPOSE', 'SLICE', 'GATHER', 'SPACE_TO_DEPTH', 'DEPTH_TO_SPACE',
]);

/** The operator version a given op layout needs (1 when nothing special is used). */
export function opVersion(op: string, ctx: OpVersionContext): number {
  const [in0, in1, in2, in3] = ctx.inputs;
  const out0 = ctx.outputs[0];
  const o: Partial<BuiltinOptions> = ctx.options ?? {};
  switch (op) {
    case 'CONV_2D': {
      if (in0?.type === 'INT16') return 4;
      if (isQuant8(in0) && isQuant8(in1)) return 3;
      if (isFloat(in0) && isQuant8(in1)) return in1?.perChannel ? 5 : 2; // hybrid
      const groups = in0?.shape && in1?.shape ? (in0.shape[3] ?? 0) / (in1.shape[3] ?? 1) : 1;
      if (groups > 1) return 6;
      return 1;
    }
    case 'DEPTHWISE_CONV_2D': {
      if (in0?.type === 'INT16') return 5;
      if (isQuant8(in0) && isQuant8(in1)) return 3;
      if (isFloat(in0) && isQuant8(in1)) return 6; // hybrid (per-channel)
      if ((o.dilationWFactor ?? 1) !== 1 || (o.dilationHFactor ?? 1) !== 1) return 2;
      return 1;
    }
    case 'FULLY_CONNECTED': {
      if (in0?.type === 'INT16') return 7;
      if (o.keepNumDims === true) return 5;
      if (isQuant8(in0) && isQuant8(in1)) return 4;
      if (isFloat(in0) && isQuant8(in1)) return o.asymmetricQuantizeInputs === true ? 9 : 3;
      if (o.weightsFormat === 'SHUFFLED4x16INT8') return 2;
      return 1;
    }
    case 'TRANSPOSE_CONV': {
      if ((o.fusedActivationFunction ?? 'NONE') !== 'NONE') return 4;
      if (in3) return 3; // bias present
      if (isQuant8(in2)) return 2;
      return 1;
    }
    case 'ADD':
      if (in0?.type === 'INT16') return 3;
      return isQuant8(in0) ? 2 : 1;
    case 'SUB':
      if (in0?.type === 'INT16') return 5;
      return isQuant8(in0) ? 2 : 1;
    case 'MUL': {
      if (in0?.type === 'INT16') return 4;
      if (!isQuant8(in0)) return 1;
      const s0 = in0?.scale, s1 = in1?.scale, so = out0?.scale;
      return s0 && s1 && so && (s0 * s1) / so >= 1 ? 3 : 2;
    }
    case 'RESIZE_BILINEAR':
    case 'RESIZE_NEAREST_NEIGHBOR':
      if (in0?.type === 'INT16') return 4;
      if (o.halfPixelCenters === true) return 3;
      return isQuant8(in0) ? 2 : 1;
    case 'QUANTIZE':
      if (out0?.perChannel) return 3;
      return out0?.type === 'INT8' || out0?.type === 'INT16' ? 2 : 1;
    case 'DEQUANTIZE':
      if (in0?.type === 'INT16') return 4;
      if (in0?.type === 'FLOAT16') return 3;
      if (in0?.type === 'INT8') return in0.perChannel ? 5 : 2;
      return 1;
    case 'LEAKY_RELU':
      return in0?.type === 'INT16' ? 2 : 1;
    default:
      if (INT8_V2.has(op)) {
        if (in0?.type === 'INT16') return 3;
        return isQuant8(in0) ? 2 : 1;
      }
      return 1;
  }
}

/** Minimum TFLite runtime per (op, version): index v−1 of each list (runtime_version.cc). */
const RUNTIME_VERSIONS: Record<string, string[]> = {
  ADD: ['1.5.0', '1.14.0', '2.4.0', '2.6.0', '2.13.0'],
  AVERAGE_POOL_2D: ['1.5.0', '1.14.0', '2.4.0', '2.10.0'],
  CONCATENATION: ['1.5.0', '1.14.0', '2.3.0', '2.14.0'],
  CONV_2D: ['1.5.0', '1.14.0', '1.14.0', '2.3.0', '2.4.0', '2.9.0', '2.11.0', '2.15.0'],
  DEPTHWISE_CONV_2D: ['1.5.0', '1.12.0', '1.14.0', '2.2.0', '2.3.0', '2.3.0', '2.11.0'],
  DEQUANTIZE: ['1.13.1', '1.14.0', '1.15.0', '2.2.0', '2.7.0', '2.18.0'],
  FULLY_CONNECTED: ['1.5.0', '1.10.0', '1.14.0', '1.14.0', '2.0.0', '2.1.0', '2.3.0', '2.3.0', '2.3.0', '2.11.0', '2.15.0', '2.17.0'],
  HARD_SWISH: ['1.15.0'],
  LEAKY_RELU: ['1.13.1', '2.3.0'],
  LOGISTIC: ['1.5.0', '1.14.0', '2.3.0'],
  MAX_POOL_2D: ['1.5.0', '1.14.0', '2.4.0', '2.10.0'],
  MEAN: ['1.6.0', '1.14.0', '2.4.0'],
  MUL: ['1.5.0', '1.14.0', '1.15.0', '2.3.0', '2.6.0', '2.11.0', '2.13.0'],
  PAD: ['1.5.0', '1.14.0', '2.4.0', '2.6.0'],
  PRELU: ['1.8.0'],
  ELU: ['1.14.0'],
  QUANTIZE: ['1.14.0', '1.15.0', '2.7.0'],
  REDUCE_MAX: ['1.11.0', '1.14.0', '2.5.0'],
  RELU: ['1.5.0', '2.1.0', '2.5.0'],
  RELU6: ['1.5.0', '2.1.0', '2.5.0'],
  RESHAPE: ['1.5.0', '2.5.0', '2.6.0'],
  RESIZE_BILINEAR: ['1.7.0', '1.14.0', '2.2.0', '2.5.0'],
  RESIZE_NEAREST_NEIGHBOR: ['1.13.1', '1.14.0', '2.3.0', '2.4.0'],
  SOFTMAX: ['1.5.0', '1.14.0', '2.3.0'],
  SPLIT: ['1.5.0', '1.14.0', '1.14.0', '2.3.0'],
  SUB: ['1.6.0', '1.14.0', '2.3.0', '2.4.0', '2.4.0'],
  TANH: ['1.14.0', '1.14.0', '2.3.0'],
  TRANSPOSE_CONV: ['1.9.0', '2.2.0', '2.3.0', '2.13.0'],
  UNIDIRECTIONAL_SEQUENCE_LSTM: ['1.13.1', '2.3.0', '2.3.0', '2.12.0'],
};

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number), pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Minimum runtime for one (op, version), or '' when unknown (custom ops, ops not in our table). */
export function runtimeVersionFor(op: string, version: number): string {
  return RUNTIME_VERSIONS[op]?.[version - 1] ?? '';
}

/** The `min_runtime_version` string: the maximum over all (op, version) pairs ('' when nothing is known). */
export function minRuntimeVersion(ops: { builtin: string; version: number }[]): string {
  let best = '';
  for (const { builtin, version } of ops) {
    const v = runtimeVersionFor(builtin, version);
    if (v && (best === '' || compareVersions(v, best) > 0)) best = v;
  }
  return best;
}

/** The 16-byte NUL-padded metadata buffer for `min_runtime_version`, or undefined when it would not fit. */
export function runtimeVersionBuffer(version: string): Uint8Array | undefined {
  if (!version || version.length >= 16) return undefined;
  const out = new Uint8Array(16);
  out.set(new TextEncoder().encode(version));
  return out;
}
