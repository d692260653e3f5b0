/**
 * Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization", arXiv:1906.04721 §4.1).
 * For layer 1 (output channel i) followed by layer 2 (input channel i) with a positively homogeneous activation
 * between them (f(s·x) = s·f(x) for s > 0: identity and ReLU), dividing layer 1's channel i (weights and bias)
 * by s_i and multiplying layer 2's input channel i by s_i leaves the float function unchanged. Choosing
 * s_i = √(r1_i · r2_i) / r2_i gives both layers the same per-channel range √(r1_i · r2_i), which is what makes
 * per-tensor weight quantization work on depthwise-separable nets (MobileNet).
 *
 * ReLU6 decision: ReLU6(x/s) ≠ ReLU6(x)/s, so equalizing across it changes the float function whenever a
 * pre-activation exceeds 6 (or 6·s_i after scaling). TFLite's clip is per tensor, so the per-channel clip 6/s_i
 * cannot be expressed. We therefore refuse ReLU6 by default; with `relu6: 'as-relu'` the caller promises to replace
 * the RELU6 by RELU in the graph (what Nagel et al. and AIMET do) and should measure the float change on
 * calibration data. Other activations (TANH, RELU_N1_TO_1, …) are always refused.
 */
import { absMaxPerChannel, axisStrides } from './math.ts';
import type { ActivationFn } from '../../model/ir.ts';

export interface EqualizeInput {
  /** Layer 1 weights and the axis of its output channels (0 for CONV_2D/FC, 3 for DEPTHWISE_CONV_2D). */
  w1: Float32Array;
  w1Shape: readonly number[];
  w1OutAxis: number;
  b1?: Float32Array;
  /** Layer 2 weights and the axis of its input channels (3 for CONV_2D [O,H,W,I], 1 for FC [O,I]). */
  w2: Float32Array;
  w2Shape: readonly number[];
  w2InAxis: number;
  /** The activation fused into layer 1 (between the two layers). */
  activation: ActivationFn;
  relu6?: 'refuse' | 'as-relu';
}

export type EqualizeResult =
  | { equalized: true; w1: Float32Array; b1?: Float32Array; w2: Float32Array; scales: Float64Array; replaceRelu6WithRelu: boolean }
  | { equalized: false; reason: string };

export function equalizePair(x: EqualizeInput): EqualizeResult {
  let replaceRelu6WithRelu = false;
  if (x.activation === 'RELU6') {
    if (x.relu6 !== 'as-relu') {
      return { equalized: false, reason: 'RELU6 between the layers is not positively homogeneous; pass relu6: "as-relu" to equalize and replace it by RELU' };
    }
    replaceRelu6WithRelu = true;
  } else if (x.activation !== 'NONE' && x.activation !== 'RELU') {
    return { equalized: false, reason: `activation ${x.activation} between the layers does not commute with per-channel scaling` };
  }
  const c1 = x.w1Shape[x.w1OutAxis];
  const c2 = x.w2Shape[x.w2InAxis];
  if (c1 !== c2) throw new Error(`Cannot equalize: layer 1 has ${c1} output channels but layer 2 takes ${c2} input channels`);
  if (x.b1 && x.b1.length !== c1) throw new Error(`Cannot equalize: layer 1 bias has ${x.b1.length} values for ${c1} channels`);
  const r1 = absMaxPerChannel(x.w1, x.w1Shape, x.w1OutAxis);
  const r2 = absMaxPerChannel(x.w2, x.w2Shape, x.w2InAxis);
  // A dead channel on either side has nothing to balance: leave it (s = 1).
  const scales = r1.map((a, i) => (a > 0 && r2[i] > 0 ? Math.sqrt(a * r2[i]) / r2[i] : 1));
  return {
    equalized: true,
    w1: scaleAlongAxis(x.w1, x.w1Shape, x.w1OutAxis, scales, true),
    b1: x.b1 ? x.b1.map((b, i) => b / scales[i]) : undefined,
    w2: scaleAlongAxis(x.w2, x.w2Shape, x.w2InAxis, scales, false),
    scales,
    replaceRelu6WithRelu,
  };
}

function scaleAlongAxis(w: Float32Array, shape: readonly number[], axis: number, s: Float64Array, divide: boolean): Float32Array {
  const { outer, channels, inner } = axisStrides(shape, axis);
  const out = new Float32Array(w.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const f = divide ? 1 / s[c] : s[c];
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) out[base + i] = w[base + i] * f;
    }
  }
  return out;
}

/** Depthwise [1,H,W,C·M] → (activation) → 1×1 or k×k CONV_2D [O,H,W,C·M]: the MobileNet pair. */
export function equalizeDepthwiseSeparable(args: {
  depthwise: Float32Array; depthwiseShape: readonly number[]; depthwiseBias?: Float32Array;
  conv: Float32Array; convShape: readonly number[];
  activation: ActivationFn; relu6?: 'refuse' | 'as-relu';
}): EqualizeResult {
  return equalizePair({
    w1: args.depthwise, w1Shape: args.depthwiseShape, w1OutAxis: 3, b1: args.depthwiseBias,
    w2: args.conv, w2Shape: args.convShape, w2InAxis: 3, activation: args.activation, relu6: args.relu6,
  });
}
