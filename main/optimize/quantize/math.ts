/**
 * Quantization arithmetic following the TFLite int8 spec (docs/quantization.md, reference quantization.md §1):
 *  - weights: int8 symmetric, zero point 0, narrow range [-127, 127], per-channel or per-tensor;
 *  - activations: int8 asymmetric [-128, 127] (or legacy uint8 [0, 255]) per tensor, range always contains 0;
 *  - bias: int32, zero point 0, scale = input_scale × weight_scale[c].
 * real = scale × (q − zeroPoint) everywhere.
 */

export const INT8_MIN = -128;
export const INT8_MAX = 127;
/** Symmetric weights use the narrow range so that −x is representable for every x (spec: [−127, 127]). */
export const WEIGHT_QMAX = 127;
const INT32_MAX = 2147483647;

/** TFLite rounds half away from zero (TfLiteRound / std::round). JS Math.round rounds half up, so wrap it. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

export interface AffineParams {
  scale: number;
  zeroPoint: number;
  /** The range after widening to include 0 (what gets stored as min/max). */
  min: number;
  max: number;
}

export type ActivationType = 'int8' | 'uint8';

const QRANGE: Record<ActivationType, [number, number]> = { int8: [-128, 127], uint8: [0, 255] };

/**
 * Asymmetric activation parameters from a calibrated [min, max], exactly as TFLite's
 * GetAsymmetricQuantizationParams: widen to include 0, scale = (max − min) / 255, zero point = round(qmin − min/scale)
 * clamped to the type's range. Because the zero point is an integer, 0.0 is always exactly representable
 * (the "nudge"): the representable range becomes [scale·(qmin − zp), scale·(qmax − zp)].
 * A degenerate all-zero range gets scale 1 (any scale represents the constant 0 exactly; 0 is not a valid scale).
 */
export function activationParams(min: number, max: number, type: ActivationType = 'int8'): AffineParams {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new Error(`Invalid activation range [${min}, ${max}]: need finite min <= max`);
  }
  const [qmin, qmax] = QRANGE[type];
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi - lo === 0) return { scale: 1, zeroPoint: qmin, min: 0, max: 0 };
  const scale = (hi - lo) / (qmax - qmin);
  const zpFromMin = qmin - lo / scale;
  const zeroPoint = zpFromMin < qmin ? qmin : zpFromMin > qmax ? qmax : roundHalfAway(zpFromMin);
  return { scale, zeroPoint, min: lo, max: hi };
}

/** The float interval an affine int8/uint8 grid can represent (after nudging). */
export function representableRange(p: { scale: number; zeroPoint: number }, type: ActivationType = 'int8'): [number, number] {
  const [qmin, qmax] = QRANGE[type];
  return [p.scale * (qmin - p.zeroPoint), p.scale * (qmax - p.zeroPoint)];
}

/** Quantize floats with affine params into an Int8Array (or Uint8Array for uint8). */
export function quantizeAffine(data: ArrayLike<number>, p: { scale: number; zeroPoint: number }, type: ActivationType = 'int8'): Int8Array | Uint8Array {
  const [qmin, qmax] = QRANGE[type];
  const out = type === 'int8' ? new Int8Array(data.length) : new Uint8Array(data.length);
  const inv = 1 / p.scale;
  for (let i = 0; i < data.length; i++) {
    const q = roundHalfAway(data[i] * inv) + p.zeroPoint;
    out[i] = q < qmin ? qmin : q > qmax ? qmax : q;
  }
  return out;
}

export function dequantizeAffine(q: ArrayLike<number>, p: { scale: number; zeroPoint: number }): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = p.scale * (q[i] - p.zeroPoint);
  return out;
}

/** quantize→dequantize in one step ("fake quant"): what the integer model will see, in float. */
export function fakeQuantize(data: ArrayLike<number>, p: { scale: number; zeroPoint: number }, type: ActivationType = 'int8'): Float32Array {
  const [qmin, qmax] = QRANGE[type];
  const out = new Float32Array(data.length);
  const inv = 1 / p.scale;
  for (let i = 0; i < data.length; i++) {
    let q = roundHalfAway(data[i] * inv) + p.zeroPoint;
    q = q < qmin ? qmin : q > qmax ? qmax : q;
    out[i] = p.scale * (q - p.zeroPoint);
  }
  return out;
}

export interface QuantizedWeights {
  data: Int8Array;
  /** One scale per channel along `axis` (length 1 for per-tensor). */
  scales: number[];
  /** Always zeros: symmetric weights. */
  zeroPoints: number[];
  /** Quantized dimension; undefined for per-tensor. */
  axis?: number;
}

/** Number of elements before, along and after `axis` for a row-major shape. */
export function axisStrides(shape: readonly number[], axis: number): { outer: number; channels: number; inner: number } {
  if (axis < 0 || axis >= shape.length) throw new Error(`Axis ${axis} out of range for shape [${shape.join(',')}]`);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, channels: shape[axis], inner };
}

/** max |w| per slice along `axis`. */
export function absMaxPerChannel(data: ArrayLike<number>, shape: readonly number[], axis: number): Float64Array {
  const { outer, channels, inner } = axisStrides(shape, axis);
  if (outer * channels * inner !== data.length) {
    throw new Error(`Weight data has ${data.length} elements but shape [${shape.join(',')}] needs ${outer * channels * inner}`);
  }
  const m = new Float64Array(channels);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let a = m[c];
      for (let i = 0; i < inner; i++) {
        const v = Math.abs(data[base + i]);
        if (v > a) a = v;
      }
      m[c] = a;
    }
  }
  return m;
}

/** Symmetric scale for a given absolute max; an all-zero channel gets scale 1 (0 is not a valid scale). */
function symmetricScale(absMax: number, qmax = WEIGHT_QMAX): number {
  return absMax > 0 ? absMax / qmax : 1;
}

/**
 * Per-channel symmetric int8 weights: s_c = max|W_c| / 127, q = clamp(round(W / s_c), −127, 127), zp 0.
 * `axis` is 0 for CONV_2D / FULLY_CONNECTED / TRANSPOSE_CONV ([O,…]) and 3 for DEPTHWISE_CONV_2D ([1,H,W,C·M]).
 * `clip` optionally gives a per-channel clipping threshold (< max|W_c|) found by a range search.
 */
export function quantizeWeightsPerChannel(
  data: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
  clip?: ArrayLike<number>,
): QuantizedWeights {
  const absMax = absMaxPerChannel(data, shape, axis);
  const { outer, channels, inner } = axisStrides(shape, axis);
  const scales = Array.from(absMax, (m, c) => symmetricScale(clip ? Math.min(m, clip[c]) : m));
  const q = new Int8Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const inv = 1 / scales[c];
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = roundHalfAway(data[base + i] * inv);
        q[base + i] = v > WEIGHT_QMAX ? WEIGHT_QMAX : v < -WEIGHT_QMAX ? -WEIGHT_QMAX : v;
      }
    }
  }
  return { data: q, scales, zeroPoints: scales.map(() => 0), axis };
}

/** Per-tensor symmetric int8 weights (one scale for the whole tensor). */
export function quantizeWeightsPerTensor(data: ArrayLike<number>, clip?: number): QuantizedWeights {
  let m = 0;
  for (let i = 0; i < data.length; i++) m = Math.max(m, Math.abs(data[i]));
  const scale = symmetricScale(clip !== undefined ? Math.min(m, clip) : m);
  const q = new Int8Array(data.length);
  const inv = 1 / scale;
  for (let i = 0; i < data.length; i++) {
    const v = roundHalfAway(data[i] * inv);
    q[i] = v > WEIGHT_QMAX ? WEIGHT_QMAX : v < -WEIGHT_QMAX ? -WEIGHT_QMAX : v;
  }
  return { data: q, scales: [scale], zeroPoints: [0] };
}

/** Dequantize symmetric weights back to float (for simulation and error measurement). */
export function dequantizeWeights(w: QuantizedWeights, shape: readonly number[]): Float32Array {
  const out = new Float32Array(w.data.length);
  if (w.axis === undefined || w.scales.length === 1) {
    for (let i = 0; i < out.length; i++) out[i] = w.data[i] * w.scales[0];
    return out;
  }
  const { outer, channels, inner } = axisStrides(shape, w.axis);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) out[base + i] = w.data[base + i] * w.scales[c];
    }
  }
  return out;
}

export interface QuantizedBias {
  data: Int32Array;
  scales: number[];
  zeroPoints: number[];
  /** Channels whose value did not fit in int32 and were clamped (a sign that the weight scale is too small). */
  clamped: number[];
}

/**
 * int32 bias with scale s_in × s_w[c] and zero point 0 (per-axis along the weights' quantized dimension).
 * Values beyond int32 are clamped like TFLite's SymmetricPerChannelBiasQuantize and reported in `clamped`.
 */
export function quantizeBias(bias: ArrayLike<number>, inputScale: number, weightScales: readonly number[]): QuantizedBias {
  if (weightScales.length !== 1 && weightScales.length !== bias.length) {
    throw new Error(`Bias has ${bias.length} channels but there are ${weightScales.length} weight scales`);
  }
  if (!(inputScale > 0)) throw new Error(`Bias quantization needs a positive input scale, got ${inputScale}`);
  const scales = Array.from(bias, (_, c) => inputScale * weightScales[weightScales.length === 1 ? 0 : c]);
  const data = new Int32Array(bias.length);
  const clamped: number[] = [];
  for (let c = 0; c < bias.length; c++) {
    let q = roundHalfAway(bias[c] / scales[c]);
    if (q > INT32_MAX || q < -INT32_MAX) {
      clamped.push(c);
      q = q > 0 ? INT32_MAX : -INT32_MAX;
    }
    data[c] = q;
  }
  return { data, scales, zeroPoints: scales.map(() => 0), clamped };
}

/** Tensors with fewer elements than this stay float in dynamic-range mode (kWeightsMinNumElementsDefault). */
export const DYNAMIC_RANGE_MIN_ELEMENTS = 1024;

/**
 * Dynamic-range (hybrid) weight quantization of one constant: null when the tensor is too small to be
 * quantized (stays float32); otherwise int8 symmetric, per-channel along `axis` or per-tensor when axis is
 * undefined. Which axis to use per op is in spec.ts (`dynamicRangeAxis`).
 */
export function quantizeDynamicRange(
  data: ArrayLike<number>,
  shape: readonly number[],
  axis: number | undefined,
  minElements = DYNAMIC_RANGE_MIN_ELEMENTS,
): QuantizedWeights | null {
  if (data.length < minElements) return null;
  return axis === undefined ? quantizeWeightsPerTensor(data) : quantizeWeightsPerChannel(data, shape, axis);
}
