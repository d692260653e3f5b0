/**
 * Bias correction (Nagel et al. 2019 §4.2; Finkelstein 2019): quantizing weights shifts each output channel's mean
 * by E[(W_q − W)·x]. Subtracting that shift from the bias removes the systematic part of the error.
 * Two ways to get the shift: empirical (per-channel means of the float and the quantized layer outputs over the
 * calibration data) or analytic (weight error × per-input-channel input mean, no extra inference).
 */
import { axisStrides } from './math.ts';

/** Per-channel mean of channel-last data (NHWC activations or [N, features]); accumulate across batches. */
export class ChannelMeans {
  private sums: Float64Array;
  private count = 0;
  constructor(readonly channels: number) {
    this.sums = new Float64Array(channels);
  }
  add(data: ArrayLike<number>): void {
    const c = this.channels;
    if (data.length % c !== 0) throw new Error(`Activation of ${data.length} values is not a multiple of ${c} channels`);
    for (let i = 0; i < data.length; i++) this.sums[i % c] += data[i];
    this.count += data.length / c;
  }
  means(): Float64Array {
    if (this.count === 0) throw new Error('No activations were accumulated');
    return this.sums.map((s) => s / this.count);
  }
}

/** b' = b − (E[y_quant] − E[y_float]) per output channel. A missing bias is treated as zeros. */
export function correctBias(bias: ArrayLike<number> | undefined, floatMean: ArrayLike<number>, quantMean: ArrayLike<number>): Float32Array {
  if (floatMean.length !== quantMean.length) throw new Error(`Bias correction: ${floatMean.length} float means but ${quantMean.length} quantized means`);
  if (bias && bias.length !== floatMean.length) throw new Error(`Bias correction: bias has ${bias.length} channels, activations have ${floatMean.length}`);
  return Float32Array.from(floatMean, (f, c) => (bias ? bias[c] : 0) - (quantMean[c] - f));
}

export type WeightLayout = 'CONV_2D' | 'FULLY_CONNECTED' | 'DEPTHWISE_CONV_2D';

/**
 * Analytic output shift E[(W_q − W)·x] per output channel, from the weight error and the mean of each input
 * channel (ignores zero padding at borders). Layouts: CONV_2D [O,H,W,I], FULLY_CONNECTED [O,I],
 * DEPTHWISE_CONV_2D [1,H,W,C·M] (input channel = output channel / M).
 */
export function expectedOutputShift(
  layout: WeightLayout,
  wFloat: ArrayLike<number>,
  wQuantized: ArrayLike<number>,
  shape: readonly number[],
  inputMean: ArrayLike<number>,
): Float64Array {
  if (wFloat.length !== wQuantized.length) throw new Error('Float and quantized weights differ in size');
  if (layout === 'DEPTHWISE_CONV_2D') {
    const { outer, channels } = axisStrides(shape, 3);
    const m = channels / inputMean.length;
    if (!Number.isInteger(m)) throw new Error(`Depthwise weights have ${channels} channels, not a multiple of ${inputMean.length} input channels`);
    const shift = new Float64Array(channels);
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++) shift[c] += (wQuantized[o * channels + c] - wFloat[o * channels + c]) * inputMean[Math.floor(c / m)];
    }
    return shift;
  }
  const { channels: out, inner } = axisStrides(shape, 0);
  const inC = shape[shape.length - 1];
  if (inC !== inputMean.length) throw new Error(`Weights take ${inC} input channels but ${inputMean.length} input means were given`);
  const shift = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    for (let k = 0; k < inner; k++) {
      const i = o * inner + k;
      shift[o] += (wQuantized[i] - wFloat[i]) * inputMean[k % inC];
    }
  }
  return shift;
}
