/**
 * The Dataset every reader produces, built in one place (`makeDataset`) so that preprocessing, the NaN/Inf check,
 * batching and the warnings are the same for image folders, IDX, .npy/.npz and CSV.
 */
import { expectedRange, outputShape, preprocessSample, validatePreprocessing, type Preprocessing, type RawSample } from './preprocess.ts';

export type DatasetKind = 'image-folder' | 'idx' | 'npy' | 'npz' | 'csv';

export interface Batch {
  start: number;
  /** Number of samples in this batch. */
  count: number;
  /** count × product(inputShape) values, sample-major. */
  data: Float32Array;
  labels?: Int32Array;
}

export interface Dataset {
  kind: DatasetKind;
  location: string;
  count: number;
  /** Shape of one preprocessed sample: [H, W, C] for images, [features] for vectors. */
  inputShape: number[];
  labels?: Int32Array;
  classNames?: string[];
  preprocessing: Preprocessing;
  /** Things that will likely hurt calibration or evaluation but are not errors. */
  warnings: string[];
  /** Samples [start, start + n) after preprocessing, concatenated. */
  batch(start: number, n: number): Promise<Float32Array>;
  /** All samples in batches of `size`. */
  batches(size: number): AsyncGenerator<Batch>;
}

/** What the history's datasets table stores (same fields as history's NewDataset). */
export interface DatasetRecord {
  name?: string;
  kind: DatasetKind;
  location: string;
  sampleCount: number;
  preprocessing: Preprocessing;
}

export function datasetRecord(ds: Dataset, name?: string): DatasetRecord {
  return { ...(name ? { name } : {}), kind: ds.kind, location: ds.location, sampleCount: ds.count, preprocessing: structuredClone(ds.preprocessing) };
}

/** Internal: how a reader exposes its samples. */
export interface SampleSource {
  kind: DatasetKind;
  location: string;
  count: number;
  read(index: number): Promise<RawSample> | RawSample;
  /** Names sample `index` in errors (a file path, or "x.npy sample 17"). */
  describe(index: number): string;
  labels?: Int32Array;
  classNames?: string[];
  /** Reader-specific warnings (e.g. ignored files). */
  warnings?: string[];
}

export interface MakeOptions {
  /** The value range the model expects; defaults to the range the preprocessing produces. */
  modelRange?: [number, number];
  /** Samples inspected for the range heuristics (decoding costs time for large images). */
  inspectSamples?: number;
}

/** Below this many samples calibration is unreliable (the converter docs suggest "a few hundred"). */
export const MIN_CALIBRATION_SAMPLES = 100;

export async function makeDataset(src: SampleSource, p: Preprocessing, options: MakeOptions = {}): Promise<Dataset> {
  validatePreprocessing(p);
  if (src.count === 0) throw new Error(`Dataset "${src.location}" has no samples`);
  if (src.labels && src.labels.length !== src.count) {
    throw new Error(`Dataset "${src.location}": ${src.count} samples but ${src.labels.length} labels`);
  }
  const first = await src.read(0);
  const inputShape = outputShape(first, p);
  const size = inputShape.reduce((a, b) => a * b, 1);

  const load = async (i: number): Promise<Float32Array> => {
    const x = preprocessSample(await src.read(i), p, src.describe(i));
    if (x.length !== size) {
      throw new Error(`${src.describe(i)} gives ${x.length} values but the first sample gave ${size} (shape [${inputShape.join(', ')}]); set a resize to make samples uniform`);
    }
    for (let k = 0; k < x.length; k++) {
      if (!Number.isFinite(x[k])) throw new Error(`${src.describe(i)} contains ${x[k]} at value ${k} (after preprocessing)`);
    }
    return x;
  };
  const batch = async (start: number, n: number): Promise<Float32Array> => {
    if (!(Number.isInteger(start) && Number.isInteger(n) && start >= 0 && n >= 0 && start + n <= src.count)) {
      throw new Error(`Batch [${start}, ${start + n}) is outside dataset "${src.location}" of ${src.count} samples`);
    }
    const out = new Float32Array(n * size);
    for (let i = 0; i < n; i++) out.set(await load(start + i), i * size);
    return out;
  };
  async function* batches(bs: number): AsyncGenerator<Batch> {
    if (!(Number.isInteger(bs) && bs > 0)) throw new Error(`Batch size must be a positive integer, got ${bs}`);
    for (let start = 0; start < src.count; start += bs) {
      const count = Math.min(bs, src.count - start);
      yield { start, count, data: await batch(start, count), labels: src.labels?.subarray(start, start + count) };
    }
  }

  const warnings = [...(src.warnings ?? [])];
  if (src.count < MIN_CALIBRATION_SAMPLES) {
    warnings.push(`Only ${src.count} samples: calibration needs at least ${MIN_CALIBRATION_SAMPLES} (a few hundred is better) for stable ranges`);
  }
  const inspect = Math.min(src.count, options.inspectSamples ?? 16);
  const rangeWarning = checkValueRange(await batch(0, inspect), options.modelRange ?? expectedRange(p), p);
  if (rangeWarning) warnings.push(rangeWarning);

  return {
    kind: src.kind, location: src.location, count: src.count, inputShape, labels: src.labels, classNames: src.classNames,
    preprocessing: p, warnings, batch, batches,
  };
}

/**
 * Heuristics on the preprocessed values of the first samples: data an order of magnitude outside the expected
 * range (e.g. 0..255 where the model expects [0, 1]) or squeezed into a tiny part of it (scaled twice).
 */
export function checkValueRange(values: Float32Array, expected: [number, number], p?: Preprocessing): string | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < lo) lo = values[i];
    if (values[i] > hi) hi = values[i];
  }
  const [eLo, eHi] = expected;
  const span = eHi - eLo;
  const seen = `[${round(lo)}, ${round(hi)}]`;
  const want = `[${round(eLo)}, ${round(eHi)}]`;
  const hint = p ? ` (preprocessing: scale '${p.scale}')` : '';
  if (hi > eHi + span * 2 || lo < eLo - span * 2) {
    return `Values look unlike the expected input range: samples span ${seen} but the model expects about ${want}${hint}. Are they scaled (e.g. divide 0-255 pixels by 255)?`;
  }
  if (hi - lo > 0 && hi - lo < span / 20 && span > 0) {
    return `Values use a tiny part of the expected input range: samples span ${seen}, the model expects about ${want}${hint}. Were they scaled twice? Try scale 'raw'.`;
  }
  return null;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
