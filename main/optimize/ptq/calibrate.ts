/**
 * Calibration pass: runs the float graph (tfjs executor) over the representative dataset and feeds every float
 * activation (graph inputs and op outputs) into one HistogramObserver per tensor. Range selection
 * (minmax / percentile / mse / kl) happens afterwards on the histograms, so trying several methods costs one
 * pass. Also computes per-channel means of chosen tensors (for bias correction).
 * Timings are split into float forward time (tfjs) and our own observing time, for the pipeline report.
 */
import type { Graph } from '../../model/ir.ts';
import { Executor } from '../../model/executor.ts';
import type { Dataset } from '../../data/index.ts';
import { badData } from '../../evaluate/errors.ts';
import * as tf from '@tensorflow/tfjs';
import { Calibrator, selectRange, type Histogram, type Range, type RangeMethod } from '../quantize/calibration.ts';
import { initCompute } from '../../../native-bridges/tfjs-backend.ts';

export interface CalibrationRun {
  calibrator: Calibrator;
  samples: number;
  /** Time spent in float forward passes (including downloading activations from tfjs). */
  floatMs: number;
  /** Time spent updating histograms. */
  observeMs: number;
  /** Graph inputs: ranges are always min/max (clipping the input itself only loses information). */
  inputs: string[];
  /** Per-channel means of the tensors asked for in `meansOf`. */
  means: Map<string, Float64Array>;
}

export interface CalibrateOptions {
  /** Use at most this many samples (default: all). */
  limit?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Also accumulate per-channel (last dimension) means of these tensors (for bias correction). */
  meansOf?: string[];
}

/** Float values per batch we are willing to hold as activations at once (~256 MB). */
const ACTIVATION_BUDGET = 64 * 1024 * 1024;

export function activationTensors(graph: Graph): string[] {
  const names = [...graph.inputs];
  for (const op of graph.ops) for (const o of op.outputs) if (graph.tensors.get(o)?.dtype === 'float32') names.push(o);
  return names;
}

function perSampleFloats(graph: Graph, names: string[]): number {
  let n = 0;
  for (const name of names) n += graph.tensors.get(name)!.shape.reduce((a, d) => a * (d > 0 ? d : 1), 1);
  return Math.max(1, n);
}

/** Checks that dataset samples fit the model's input, naming both shapes. */
export function checkDatasetFits(graph: Graph, ds: Dataset): void {
  const input = graph.tensors.get(graph.inputs[0]!)!;
  const want = input.shape.slice(1);
  const got = ds.inputShape;
  const same = want.length === got.length && want.every((d, i) => d <= 0 || d === got[i]);
  if (!same) {
    throw badData(
      `Dataset "${ds.location}" gives samples of shape [${got.join(', ')}] but model input "${input.name}" expects [${want.join(', ')}]` +
        ' — set the preprocessing (e.g. --size HxW, channels) to match the model',
    );
  }
}

/**
 * Values per sample and tensor fed to the histograms. Large activations (MobileNet's first layers hold 400k values
 * per image) are subsampled with a stride coprime to the channel count (every channel is represented); the exact
 * min and max are computed on the full tensor in tfjs and added to the sample, so `minmax` stays exactly the
 * converter's global min/max while histogram methods see a statistically faithful sample.
 */
export const HISTOGRAM_VALUES_PER_SAMPLE = 32768;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Smallest stride ≥ size/budget that is coprime with `channels` (1 when the tensor is small). */
export function sampleStride(size: number, budget: number, channels: number): number {
  let k = Math.max(1, Math.ceil(size / budget));
  if (k === 1) return 1;
  while (gcd(k, channels) !== 1) k++;
  return k;
}

export async function calibrate(graph: Graph, ds: Dataset, opts: CalibrateOptions = {}): Promise<CalibrationRun> {
  if (graph.inputs.length !== 1) throw new Error(`Calibration supports models with one input; "${graph.name}" has ${graph.inputs.length}`);
  checkDatasetFits(graph, ds);
  await initCompute();
  const names = activationTensors(graph);
  const total = Math.min(ds.count, opts.limit ?? ds.count);
  const batchSize = Math.max(1, Math.min(64, Math.floor(ACTIVATION_BUDGET / perSampleFloats(graph, names))));
  const calibrator = new Calibrator();
  const ex = new Executor(graph);
  const meansOf = new Set(opts.meansOf ?? []);
  const meanSums = new Map<string, { sum: Float64Array; count: number }>();
  let floatMs = 0;
  let observeMs = 0;
  try {
    for (let start = 0; start < total; start += batchSize) {
      if (opts.signal?.aborted) throw new Error('Calibration cancelled');
      const n = Math.min(batchSize, total - start);
      const x = await ds.batch(start, n);
      const t0 = performance.now();
      const out = ex.run({ [graph.inputs[0]!]: x }, { outputs: names });
      // Reductions and subsampling run in tfjs (WASM SIMD); only small arrays are downloaded.
      const reduced = names.map((name) => {
        const t = out[name]!;
        const channels = t.shape.at(-1) ?? 1;
        const k = sampleStride(t.size, HISTOGRAM_VALUES_PER_SAMPLE * n, channels);
        const [min, max, sample, mean] = tf.tidy(() => {
          const flat = t.reshape([-1]);
          return [
            tf.min(flat), tf.max(flat), k === 1 ? flat : tf.stridedSlice(flat, [0], [flat.size], [k]),
            ...(meansOf.has(name) ? [tf.mean(t.reshape([-1, channels]), 0)] : []),
          ];
        });
        return { name, k, min: min!, max: max!, sample: sample!, mean: mean ?? null, rows: t.size / channels };
      });
      for (const name of names) out[name]!.dispose();
      const values: { name: string; data: Float32Array; mean: Float32Array | null; rows: number }[] = [];
      for (const r of reduced) {
        const data = (await r.sample.data()) as Float32Array;
        let extra = data;
        if (r.k !== 1) {
          extra = new Float32Array(data.length + 2);
          extra.set(data);
          extra[data.length] = (await r.min.data())[0]!;
          extra[data.length + 1] = (await r.max.data())[0]!;
        }
        values.push({ name: r.name, data: extra, mean: r.mean ? ((await r.mean.data()) as Float32Array) : null, rows: r.rows });
        r.sample.dispose(); r.min.dispose(); r.max.dispose(); r.mean?.dispose();
      }
      const t1 = performance.now();
      for (const v of values) {
        calibrator.observe(v.name, v.data);
        if (v.mean) {
          const m = meanSums.get(v.name) ?? { sum: new Float64Array(v.mean.length), count: 0 };
          v.mean.forEach((x, c) => (m.sum[c] += x * v.rows));
          m.count += v.rows;
          meanSums.set(v.name, m);
        }
      }
      observeMs += performance.now() - t1;
      floatMs += t1 - t0;
      opts.onProgress?.(start + n, total);
    }
  } finally {
    ex.dispose();
  }
  for (const [name, o] of calibrator.observers) {
    if (o.nonFinite > 0) throw badData(`Calibration: tensor "${name}" produced ${o.nonFinite} NaN/Inf values — check the data and preprocessing`);
  }
  const means = new Map([...meanSums].map(([k, m]) => [k, m.sum.map((x) => x / m.count)]));
  return { calibrator, samples: total, floatMs, observeMs, inputs: [...graph.inputs], means };
}

/** Bins the range searches work on: merging groups of adjacent bins is exact and makes mse/kl ~8× cheaper. */
export const SEARCH_BINS = 2048;

export function coarsen(h: Histogram, maxBins = SEARCH_BINS): Histogram {
  const f = Math.ceil(h.counts.length / maxBins);
  if (f <= 1) return h;
  const counts = new Float64Array(Math.ceil(h.counts.length / f));
  for (let i = 0; i < h.counts.length; i++) counts[Math.floor(i / f)] += h.counts[i]!;
  return { ...h, width: h.width * f, counts };
}

/** Ranges for every observed tensor with `method`; graph inputs always use min/max. */
export function rangesFor(run: CalibrationRun, method: RangeMethod): Map<string, Range> {
  const out = new Map<string, Range>();
  for (const [name, o] of run.calibrator.observers) {
    out.set(name, selectRange(coarsen(o.histogram()), run.inputs.includes(name) ? { kind: 'minmax' } : method));
  }
  return out;
}
