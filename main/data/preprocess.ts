/**
 * Preprocessing: ONE function (`preprocessSample`) turns a raw sample into the model's input, used identically for
 * calibration, evaluation and the float reference. The settings are a plain JSON object stored with the dataset
 * record in the history, so a result can always be reproduced.
 *
 * Order of operations for images (HWC): center crop → bilinear resize → grayscale/RGB conversion → channel order →
 * scale → (x − mean) / std. `mean`/`std` are given in the scaled units and in the model's channel order
 * (ImageNet-style [0.485, 0.456, 0.406] with scale 'unit'; Caffe-style BGR means with scale 'raw').
 * Vector samples (CSV rows, 1-D arrays) only get scale and mean/std.
 */

export type ScaleMode = 'unit' | 'symmetric' | 'raw';

export interface Preprocessing {
  /** Target spatial size (the model's H×W); absent → keep the source size (then all images must share it). */
  resize?: { height: number; width: number };
  /** Central fraction kept before resizing (like tf.image.central_crop), e.g. 0.875; absent or 1 → no crop. */
  centerCrop?: number;
  /** 'unit': v/255 → [0,1]; 'symmetric': v/127.5 − 1 → [−1,1]; 'raw': values unchanged (0..255 for images). */
  scale: ScaleMode;
  mean?: number[];
  std?: number[];
  channelOrder: 'RGB' | 'BGR';
  /** Channels the model takes (1 = grayscale, 3 = RGB/BGR); absent → keep the source's. */
  channels?: number;
}

export const DEFAULT_PREPROCESSING: Preprocessing = { scale: 'unit', channelOrder: 'RGB' };

/** A decoded sample before preprocessing. Image data is HWC, row-major. */
export type RawSample =
  | { kind: 'image'; height: number; width: number; channels: number; data: ArrayLike<number> }
  | { kind: 'vector'; data: ArrayLike<number> };

/** Fills resize/channels from a model's NHWC input shape ([-1,H,W,C] or [H,W,C]); other settings from `base`. */
export function preprocessingForModel(inputShape: readonly number[], base: Partial<Preprocessing> = {}): Preprocessing {
  const p: Preprocessing = { ...DEFAULT_PREPROCESSING, ...base };
  const dims = inputShape.length === 4 ? inputShape.slice(1) : inputShape.length === 3 ? inputShape : null;
  if (dims && dims[0] > 0 && dims[1] > 0) {
    p.resize ??= { height: dims[0], width: dims[1] };
    p.channels ??= dims[2];
  }
  return p;
}

/** Throws on settings that cannot work, naming the field. */
export function validatePreprocessing(p: Preprocessing): void {
  if (!['unit', 'symmetric', 'raw'].includes(p.scale)) throw new Error(`Preprocessing scale must be unit, symmetric or raw, got "${p.scale}"`);
  if (p.channelOrder !== 'RGB' && p.channelOrder !== 'BGR') throw new Error(`Preprocessing channelOrder must be RGB or BGR, got "${p.channelOrder}"`);
  if (p.resize && !(Number.isInteger(p.resize.height) && Number.isInteger(p.resize.width) && p.resize.height > 0 && p.resize.width > 0)) {
    throw new Error(`Preprocessing resize must be positive integers, got ${p.resize.height}×${p.resize.width}`);
  }
  if (p.centerCrop !== undefined && !(p.centerCrop > 0 && p.centerCrop <= 1)) throw new Error(`Preprocessing centerCrop must be in (0, 1], got ${p.centerCrop}`);
  if (p.std?.some((s) => !(s > 0))) throw new Error(`Preprocessing std values must be positive, got [${p.std.join(', ')}]`);
  if (p.channels !== undefined && !(Number.isInteger(p.channels) && p.channels > 0)) throw new Error(`Preprocessing channels must be a positive integer, got ${p.channels}`);
}

/** Per-sample output shape: [H, W, C] for images, [features] for vectors. */
export function outputShape(raw: RawSample, p: Preprocessing): number[] {
  if (raw.kind === 'vector') return [raw.data.length];
  const h = p.resize?.height ?? cropSize(raw.height, p.centerCrop)[1];
  const w = p.resize?.width ?? cropSize(raw.width, p.centerCrop)[1];
  return [h, w, p.channels ?? raw.channels];
}

/** [start, size] of the central crop along one dimension (tf.image.central_crop rounding). */
function cropSize(n: number, fraction = 1): [number, number] {
  const start = Math.floor((n - n * fraction) / 2);
  return [start, n - 2 * start];
}

/**
 * Applies the preprocessing to one raw sample. `what` names the sample (file, or file + index) in errors.
 */
export function preprocessSample(raw: RawSample, p: Preprocessing, what: string): Float32Array {
  validatePreprocessing(p); // cheap, and settings arrive as JSON from the UI/CLI
  if (raw.kind === 'vector') {
    if (p.resize || p.centerCrop !== undefined && p.centerCrop !== 1) {
      throw new Error(`${what}: resize/centerCrop need image samples, but this is a vector of ${raw.data.length} values`);
    }
    const out = Float32Array.from(raw.data);
    normalize(out, p, out.length, what);
    return out;
  }
  const { height: h, width: w, channels: c } = raw;
  const outC = p.channels ?? c;
  if (!(outC === c || (c === 1 && outC === 3) || ((c === 3 || c === 4) && outC === 1) || (c === 4 && outC === 3))) {
    throw new Error(`${what} has ${c} channel(s) but the model expects ${outC}: only grayscale↔RGB conversion (and dropping alpha) is supported`);
  }
  const [y0, ch] = cropSize(h, p.centerCrop);
  const [x0, cw] = cropSize(w, p.centerCrop);
  const oh = p.resize?.height ?? ch;
  const ow = p.resize?.width ?? cw;
  const out = new Float32Array(oh * ow * outC);
  const src = raw.data;
  const pix = new Float64Array(c);
  // Bilinear with half-pixel centers (TF2 tf.image.resize, OpenCV INTER_LINEAR, PIL without antialias).
  const sy = ch / oh;
  const sx = cw / ow;
  for (let oy = 0; oy < oh; oy++) {
    const fy = Math.min(Math.max((oy + 0.5) * sy - 0.5, 0), ch - 1);
    const yA = Math.floor(fy);
    const yB = Math.min(yA + 1, ch - 1);
    const dy = fy - yA;
    for (let ox = 0; ox < ow; ox++) {
      const fx = Math.min(Math.max((ox + 0.5) * sx - 0.5, 0), cw - 1);
      const xA = Math.floor(fx);
      const xB = Math.min(xA + 1, cw - 1);
      const dx = fx - xA;
      const i00 = ((y0 + yA) * w + x0 + xA) * c;
      const i01 = ((y0 + yA) * w + x0 + xB) * c;
      const i10 = ((y0 + yB) * w + x0 + xA) * c;
      const i11 = ((y0 + yB) * w + x0 + xB) * c;
      for (let k = 0; k < c; k++) {
        const top = src[i00 + k] + (src[i01 + k] - src[i00 + k]) * dx;
        const bottom = src[i10 + k] + (src[i11 + k] - src[i10 + k]) * dx;
        pix[k] = top + (bottom - top) * dy;
      }
      const o = (oy * ow + ox) * outC;
      if (outC === 1 && c >= 3) out[o] = 0.299 * pix[0] + 0.587 * pix[1] + 0.114 * pix[2]; // ITU-R 601 luma (PIL "L")
      else if (outC === 3 && c === 1) out[o] = out[o + 1] = out[o + 2] = pix[0];
      else if (outC === 3 && p.channelOrder === 'BGR') {
        out[o] = pix[2];
        out[o + 1] = pix[1];
        out[o + 2] = pix[0];
      } else for (let k = 0; k < outC; k++) out[o + k] = pix[k];
    }
  }
  normalize(out, p, outC, what);
  return out;
}

function normalize(out: Float32Array, p: Preprocessing, period: number, what: string): void {
  const [mul, add] = p.scale === 'unit' ? [1 / 255, 0] : p.scale === 'symmetric' ? [1 / 127.5, -1] : [1, 0];
  const mean = p.mean ?? [0];
  const std = p.std ?? [1];
  for (const [name, arr] of [['mean', mean], ['std', std]] as const) {
    if (arr.length !== 1 && arr.length !== period) {
      throw new Error(`${what}: preprocessing ${name} has ${arr.length} values but samples have ${period} channels/features`);
    }
  }
  for (let i = 0; i < out.length; i++) {
    const k = i % period;
    out[i] = (out[i] * mul + add - mean[mean.length === 1 ? 0 : k]) / std[std.length === 1 ? 0 : k];
  }
}

/** The value range preprocessing maps 0..255 pixels to (what a model trained with it expects). */
export function expectedRange(p: Preprocessing): [number, number] {
  const [lo, hi] = p.scale === 'unit' ? [0, 1] : p.scale === 'symmetric' ? [-1, 1] : [0, 255];
  const mean = p.mean ?? [0];
  const std = p.std ?? [1];
  let a = Infinity;
  let b = -Infinity;
  for (let k = 0; k < Math.max(mean.length, std.length); k++) {
    const m = mean[mean.length === 1 ? 0 : k];
    const s = std[std.length === 1 ? 0 : k];
    a = Math.min(a, (lo - m) / s);
    b = Math.max(b, (hi - m) / s);
  }
  return [a, b];
}

/** One plain-words line for the CLI and UI. */
export function describePreprocessing(p: Preprocessing): string {
  const parts: string[] = [];
  if (p.centerCrop !== undefined && p.centerCrop !== 1) parts.push(`center-crop ${Math.round(p.centerCrop * 1000) / 10}%`);
  if (p.resize) parts.push(`resize to ${p.resize.height}×${p.resize.width} (bilinear)`);
  if (p.channels === 1) parts.push('grayscale');
  else if (p.channels === 3) parts.push(p.channelOrder);
  else if (p.channelOrder === 'BGR') parts.push('BGR');
  parts.push(p.scale === 'unit' ? 'scale to [0, 1]' : p.scale === 'symmetric' ? 'scale to [-1, 1]' : 'raw values (0-255 for images)');
  if (p.mean || p.std) parts.push(`normalize with mean [${(p.mean ?? [0]).join(', ')}] and std [${(p.std ?? [1]).join(', ')}]`);
  const s = parts.join(', ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
