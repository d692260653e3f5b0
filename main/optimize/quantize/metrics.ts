/**
 * Error metrics between a float reference and its quantized counterpart (both as floats), used to rank layer
 * sensitivity and to decide float fallback.
 */

function check(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: float has ${a.length} values but quantized has ${b.length}`);
  if (a.length === 0) throw new Error(`${what}: no values to compare`);
}

/** Signal-to-quantization-noise ratio in dB: 10·log10(Σx² / Σ(x − q)²). Infinity when identical. */
export function sqnrDb(float: ArrayLike<number>, quant: ArrayLike<number>): number {
  check(float, quant, 'SQNR');
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < float.length; i++) {
    signal += float[i] * float[i];
    noise += (float[i] - quant[i]) ** 2;
  }
  if (noise === 0) return Infinity;
  if (signal === 0) return -Infinity;
  return 10 * Math.log10(signal / noise);
}

export function rmse(float: ArrayLike<number>, quant: ArrayLike<number>): number {
  check(float, quant, 'RMSE');
  let s = 0;
  for (let i = 0; i < float.length; i++) s += (float[i] - quant[i]) ** 2;
  return Math.sqrt(s / float.length);
}

/**
 * RMSE divided by the quantization step, the TFLite QuantizationDebugger's layer metric: ≈ 1/√12 ≈ 0.289 means
 * pure rounding noise (well quantized); the debugger tutorial treats layers above 0.7 as candidates for float.
 */
export function rmseOverScale(float: ArrayLike<number>, quant: ArrayLike<number>, scale: number): number {
  if (!(scale > 0)) throw new Error(`RMSE/scale needs a positive scale, got ${scale}`);
  return rmse(float, quant) / scale;
}

export const RMSE_OVER_SCALE_IDEAL = 1 / Math.sqrt(12);
export const RMSE_OVER_SCALE_SUSPICIOUS = 0.7;

export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  check(a, b, 'cosine similarity');
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? (aa === bb ? 1 : 0) : ab / Math.sqrt(aa * bb);
}
