/**
 * Calibration: per-tensor statistics over batches of activations, then a clipping range per tensor.
 *
 * TFLite's converter uses the plain global min/max (calibration_logger.cc). We keep that as `minmax` and add
 * range searches on a histogram — `percentile`, `mse` (minimise the expected int8 quantization error) and `kl`
 * (TensorRT entropy calibration) — which clip rare outliers so the bulk of the values gets a finer grid.
 *
 * Histogram design: bins have a fixed width w and are aligned to 0 (bin k covers [k·w, (k+1)·w)). New data beyond
 * the current range just appends bins; when there would be more than `maxBins`, adjacent pairs are merged
 * (w doubles, bin k → floor(k/2)). Both operations are exact — no interpolation — so the result does not depend
 * on batch order beyond the final bin width, and the bulk keeps its resolution through up to
 * maxBins/initialBins (8×) growth of the range.
 */
import { activationParams, representableRange, type ActivationType } from './math.ts';

export interface HistogramObserverOptions {
  /** Bins spanning the first batch's range (TensorRT and PyTorch use 2048). */
  initialBins?: number;
  /** Upper bound on bins before pairs are merged. */
  maxBins?: number;
}

/** A histogram snapshot: `counts[i]` values in [start + i·width, start + (i+1)·width), exact min/max kept. */
export interface Histogram {
  start: number;
  width: number;
  counts: Float64Array;
  min: number;
  max: number;
  total: number;
  /** Values exactly 0 (e.g. after ReLU): represented exactly by every grid, so range searches ignore them. */
  zeros: number;
}

export class HistogramObserver {
  min = Infinity;
  max = -Infinity;
  /** Finite values seen. */
  count = 0;
  /** NaN/±Inf values skipped (TFLite also skips NaN); reported so callers can warn. */
  nonFinite = 0;
  /** Exact zeros (counted in the histogram too). */
  zeros = 0;
  private width = 0;
  private kLo = 0;
  private counts = new Float64Array(0);
  /** Zeros seen before the first non-zero value (the width is unknown until then). */
  private pendingZeros = 0;
  private readonly initialBins: number;
  private readonly maxBins: number;

  constructor(options: HistogramObserverOptions = {}) {
    this.initialBins = options.initialBins ?? 2048;
    this.maxBins = options.maxBins ?? 16384;
    if (this.maxBins < 2 * this.initialBins) throw new Error('maxBins must be at least 2 × initialBins');
  }

  update(data: ArrayLike<number>): void {
    let bmin = Infinity;
    let bmax = -Infinity;
    let finite = 0;
    let zeros = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v - v !== 0) continue; // NaN or ±Inf
      finite++;
      if (v === 0) zeros++;
      if (v < bmin) bmin = v;
      if (v > bmax) bmax = v;
    }
    this.nonFinite += data.length - finite;
    this.zeros += zeros;
    if (finite === 0) return;
    this.count += finite;
    this.min = Math.min(this.min, bmin);
    this.max = Math.max(this.max, bmax);
    if (this.width === 0) {
      const span = Math.max(this.max, 0) - Math.min(this.min, 0);
      if (span === 0) {
        this.pendingZeros += finite;
        return;
      }
      this.width = span / this.initialBins;
      this.kLo = Math.floor(Math.min(this.min, 0) / this.width);
      this.counts = new Float64Array(Math.floor(Math.max(this.max, 0) / this.width) - this.kLo + 1);
      this.counts[-this.kLo] += this.pendingZeros;
      this.pendingZeros = 0;
    } else {
      this.grow(bmin, bmax);
    }
    const inv = 1 / this.width;
    const n = this.counts.length;
    const c = this.counts;
    const kLo = this.kLo;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v - v !== 0) continue;
      let k = Math.floor(v * inv) - kLo;
      if (k >= n) k = n - 1; // float rounding at the top edge
      else if (k < 0) k = 0;
      c[k]++;
    }
  }

  /** Extends the bin array to cover [lo, hi], merging pairs while it would exceed maxBins. */
  private grow(lo: number, hi: number): void {
    let kLo = Math.min(this.kLo, Math.floor(lo / this.width));
    let kHi = Math.max(this.kLo + this.counts.length - 1, Math.floor(hi / this.width));
    if (kLo === this.kLo && kHi === this.kLo + this.counts.length - 1) return;
    let shift = 0;
    while (kHi - kLo + 1 > this.maxBins) {
      shift++;
      kLo = Math.floor(kLo / 2);
      kHi = Math.floor(kHi / 2);
    }
    const next = new Float64Array(kHi - kLo + 1);
    for (let i = 0; i < this.counts.length; i++) {
      next[Math.floor((this.kLo + i) / 2 ** shift) - kLo] += this.counts[i];
    }
    this.width *= 2 ** shift;
    this.kLo = kLo;
    this.counts = next;
  }

  histogram(): Histogram {
    if (this.count === 0) throw new Error('No finite values were observed: cannot compute a range');
    if (this.width === 0) {
      return { start: 0, width: 0, counts: Float64Array.of(this.pendingZeros), min: 0, max: 0, total: this.count, zeros: this.zeros };
    }
    return {
      start: this.kLo * this.width, width: this.width, counts: this.counts.slice(), min: this.min, max: this.max, total: this.count, zeros: this.zeros,
    };
  }
}

export type RangeMethod =
  | { kind: 'minmax' }
  | { kind: 'percentile'; percentile: number }
  | { kind: 'mse' }
  | { kind: 'kl' };

export const RANGE_METHODS = ['minmax', 'percentile', 'mse', 'kl'] as const;

export interface Range {
  min: number;
  max: number;
}

/** Clipping range for one observed tensor. The result always contains 0 (as activationParams requires). */
export function selectRange(obs: HistogramObserver | Histogram, method: RangeMethod, type: ActivationType = 'int8'): Range {
  const h = obs instanceof HistogramObserver ? obs.histogram() : obs;
  const full = { min: Math.min(h.min, 0), max: Math.max(h.max, 0) };
  if (h.width === 0 || method.kind === 'minmax') return full;
  switch (method.kind) {
    case 'percentile':
      return percentileRange(h, method.percentile);
    case 'mse':
      return mseRange(h, type);
    case 'kl':
      return klRange(h);
  }
}

/** Bin i's occupied interval, trimmed to the exact observed min/max. */
function binBounds(h: Histogram, i: number): [number, number] {
  const l = h.start + i * h.width;
  return [Math.max(l, h.min), Math.min(l + h.width, h.max)];
}

/** Index of the bin holding exact zeros (bins are aligned to 0, so 0 is the start of a bin). */
function zeroBinIndex(h: Histogram): number {
  return h.width > 0 ? Math.round(-h.start / h.width) : 0;
}

/** Value below which a fraction q of the data lies, interpolating uniformly inside bins. */
export function histogramQuantile(h: Histogram, q: number): number {
  const target = q * h.total;
  let acc = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i];
    if (c > 0 && acc + c >= target) {
      const [l, r] = binBounds(h, i);
      return l + (r - l) * Math.min(1, Math.max(0, (target - acc) / c));
    }
    acc += c;
  }
  return h.max;
}

function percentileRange(h: Histogram, percentile: number): Range {
  if (!(percentile > 50 && percentile <= 100)) throw new Error(`Percentile must be in (50, 100], got ${percentile}`);
  const p = percentile / 100;
  return { min: Math.min(0, histogramQuantile(h, 1 - p)), max: Math.max(0, histogramQuantile(h, p)) };
}

/**
 * Expected squared error of quantizing the histogram's values with the grid activationParams(lo, hi) produces:
 * values inside the grid get the uniform rounding error s²/12, values outside get their squared distance to the
 * nearest grid end (integrated exactly, assuming values are uniform within a bin).
 */
export function expectedQuantError(h: Histogram, lo: number, hi: number, type: ActivationType = 'int8'): number {
  const p = activationParams(lo, hi, type);
  const [gLo, gHi] = representableRange(p, type);
  const round = (p.scale * p.scale) / 12;
  let err = 0;
  const zeroBin = zeroBinIndex(h);
  for (let i = 0; i < h.counts.length; i++) {
    const n = i === zeroBin ? h.counts[i] - h.zeros : h.counts[i];
    if (n <= 0) continue;
    const [l, r] = binBounds(h, i);
    const w = r - l;
    if (w <= 0) {
      const x = l;
      err += n * (x > gHi ? (x - gHi) ** 2 : x < gLo ? (gLo - x) ** 2 : round);
      continue;
    }
    const density = n / w;
    const inside = Math.max(0, Math.min(r, gHi) - Math.max(l, gLo));
    err += density * inside * round;
    if (r > gHi) err += (density * ((r - gHi) ** 3 - (Math.max(l, gHi) - gHi) ** 3)) / 3;
    if (l < gLo) err += (density * ((gLo - l) ** 3 - (gLo - Math.min(r, gLo)) ** 3)) / 3;
  }
  return err / h.total;
}

/** Merges adjacent bin pairs (exact, bins stay aligned to 0) until at most maxBins remain. */
export function coarsen(h: Histogram, maxBins: number): Histogram {
  let { start, width, counts } = h;
  while (counts.length > maxBins && width > 0) {
    const kLo = Math.round(start / width);
    const nkLo = Math.floor(kLo / 2);
    const next = new Float64Array(Math.floor((kLo + counts.length - 1) / 2) - nkLo + 1);
    for (let i = 0; i < counts.length; i++) next[Math.floor((kLo + i) / 2) - nkLo] += counts[i];
    width *= 2;
    start = nkLo * width;
    counts = next;
  }
  return { ...h, start, width, counts };
}

/** Clip fractions tried by the MSE search: log-spaced from 1 down to 1e-3 (outliers can be 1000× the bulk). */
const CLIP_FRACTIONS = Array.from({ length: 160 }, (_, i) => 10 ** ((-3 * i) / 159));

/** Coordinate descent over the upper and lower clip (each a fraction of max / |min|), minimising expectedQuantError. */
function mseRange(full: Histogram, type: ActivationType): Range {
  const h = coarsen(full, 4096); // ~4× faster search; the clip grid is far coarser than 4096 bins anyway
  const hi0 = Math.max(h.max, 0);
  const lo0 = Math.min(h.min, 0);
  let best = { min: lo0, max: hi0, err: expectedQuantError(h, lo0, hi0, type) };
  for (let round = 0; round < 3; round++) {
    const before = best.err;
    if (hi0 > 0) {
      for (const f of CLIP_FRACTIONS) {
        const e = expectedQuantError(h, best.min, hi0 * f, type);
        if (e < best.err) best = { min: best.min, max: hi0 * f, err: e };
      }
    }
    if (lo0 < 0) {
      for (const f of CLIP_FRACTIONS) {
        const e = expectedQuantError(h, lo0 * f, best.max, type);
        if (e < best.err) best = { min: lo0 * f, max: best.max, err: e };
      }
    }
    if (best.err >= before) break;
  }
  return { min: best.min, max: best.max };
}

/**
 * TensorRT entropy calibration (Migacz, GTC 2017; MXNet `_get_optimal_threshold`): choose the threshold T whose
 * clipped-and-requantized distribution Q is closest in KL divergence to the clipped reference P.
 * One-sided data (e.g. after ReLU) uses all 255 steps on [0, T]; two-sided data is folded to |x| and uses 128
 * (a symmetric threshold, then intersected with the observed range) — as TensorRT does for int8.
 */
function klRange(h: Histogram): Range {
  const oneSidedPos = h.min >= 0;
  const oneSidedNeg = h.max <= 0;
  const m = Math.max(Math.abs(h.min), Math.abs(h.max));
  const bins = 2048;
  const ref = resampleAbs(h, m, bins);
  const nQuant = oneSidedPos || oneSidedNeg ? 255 : 128;
  const t = (klThresholdBin(ref, nQuant) / bins) * m;
  if (oneSidedPos) return { min: 0, max: t };
  if (oneSidedNeg) return { min: -t, max: 0 };
  return { min: Math.max(h.min, -t), max: Math.min(h.max, t) };
}

/** Histogram of |x| over [0, m] with `bins` bins, splitting each source bin proportionally to overlap. */
function resampleAbs(h: Histogram, m: number, bins: number): Float64Array {
  const out = new Float64Array(bins);
  const w = m / bins;
  const add = (a: number, b: number, n: number) => {
    // a..b is a sub-interval of [0, m] holding n values uniformly.
    if (b <= a) {
      out[Math.min(bins - 1, Math.floor(a / w))] += n;
      return;
    }
    const density = n / (b - a);
    for (let k = Math.floor(a / w); k < bins && k * w < b; k++) {
      const ov = Math.min(b, (k + 1) * w) - Math.max(a, k * w);
      if (ov > 0) out[k] += density * ov;
    }
  };
  const zeroBin = zeroBinIndex(h);
  for (let i = 0; i < h.counts.length; i++) {
    // Exact zeros are dropped: a ReLU's spike at 0 would otherwise dominate the divergence and pull T down.
    const n = i === zeroBin ? h.counts[i] - h.zeros : h.counts[i];
    if (n <= 0) continue;
    const [l, r] = binBounds(h, i);
    if (r <= 0) add(-r, -l, n);
    else if (l >= 0) add(l, r, n);
    else {
      // straddles 0: split proportionally
      add(0, -l, (n * -l) / (r - l));
      add(0, r, (n * r) / (r - l));
    }
  }
  return out;
}

function klThresholdBin(hist: Float64Array, nQuant: number): number {
  const bins = hist.length;
  if (bins <= nQuant) return bins;
  let bestBin = bins;
  let bestKl = Infinity;
  let outliers = 0;
  for (let i = bins - 1; i >= nQuant; i--) outliers += hist[i];
  const p = new Float64Array(bins);
  const q = new Float64Array(bins);
  for (let i = nQuant; i <= bins; i++) {
    // P: reference clipped at bin i, outliers folded into the last bin.
    p.set(hist.subarray(0, i));
    p[i - 1] += outliers;
    if (i < bins) outliers -= hist[i];
    // Q: the first i bins merged into nQuant groups, each group's mass spread over its non-empty bins.
    const merged = i / nQuant;
    for (let j = 0; j < nQuant; j++) {
      const s = Math.floor(j * merged);
      const e = j === nQuant - 1 ? i : Math.floor((j + 1) * merged);
      let sum = 0;
      let nonZero = 0;
      for (let k = s; k < e; k++) {
        sum += hist[k];
        if (p[k] !== 0) nonZero++;
      }
      for (let k = s; k < e; k++) q[k] = p[k] !== 0 && nonZero > 0 ? sum / nonZero : 0;
    }
    const kl = klDivergence(p, q, i);
    if (kl < bestKl) {
      bestKl = kl;
      bestBin = i;
    }
  }
  return bestBin;
}

function klDivergence(p: Float64Array, q: Float64Array, n: number): number {
  let sp = 0;
  let sq = 0;
  for (let k = 0; k < n; k++) {
    sp += p[k];
    sq += q[k];
  }
  if (sp === 0 || sq === 0) return Infinity;
  const eps = 1e-10;
  let kl = 0;
  for (let k = 0; k < n; k++) {
    if (p[k] === 0) continue;
    const pk = p[k] / sp;
    const qk = Math.max(q[k] / sq, eps);
    kl += pk * Math.log(pk / qk);
  }
  return kl;
}

/** One observer per named tensor: the object a calibration loop feeds and the quantizer reads ranges from. */
export class Calibrator {
  readonly observers = new Map<string, HistogramObserver>();
  constructor(private readonly options: HistogramObserverOptions = {}) {}

  observe(tensor: string, data: ArrayLike<number>): void {
    let o = this.observers.get(tensor);
    if (!o) this.observers.set(tensor, (o = new HistogramObserver(this.options)));
    o.update(data);
  }

  ranges(method: RangeMethod, type: ActivationType = 'int8'): Map<string, Range> {
    const out = new Map<string, Range>();
    for (const [name, o] of this.observers) {
      if (o.count === 0) throw new Error(`Tensor "${name}" produced only NaN/Inf during calibration: cannot choose a range`);
      out.set(name, selectRange(o, method, type));
    }
    return out;
  }
}
