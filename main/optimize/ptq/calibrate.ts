/**
 * Calibration pass: runs the float graph (tfjs executor) over the representative dataset and feeds every float
 * activation (graph inputs and op outputs) into one HistogramObserver per tensor. Range selection
 * (minmax / percentile / mse / kl) happens afterwards on the histograms, so trying several methods costs one
 * pass. Also keeps per-channel means of each op output (cheap) for bias correction.
 * Timings are split into float forward time (tfjs) and our own observing time, for the pipeline report.
 */
import type { Graph } from '../../model/ir.ts';
import { Executor } from '../../model/executor.ts';
import type { Dataset } from '../../data/index.ts';
import { Calibrator, selectRange, type Range, type RangeMethod } from '../quantize/calibration.ts';
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
}

export interface CalibrateOptions {
  /** Use at most this many samples (default: all). */
  limit?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
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
    throw new Error(
      `Dataset "${ds.location}" gives samples of shape [${got.join(', ')}] but model input "${input.name}" expects [${want.join(', ')}]` +
        ' — set the preprocessing (e.g. --size HxW, channels) to match the model',
    );
  }
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
  let floatMs = 0;
  let observeMs = 0;
  try {
    for (let start = 0; start < total; start += batchSize) {
      if (opts.signal?.aborted) throw new Error('Calibration cancelled');
      const n = Math.min(batchSize, total - start);
      const x = await ds.batch(start, n);
      const t0 = performance.now();
      const out = ex.run({ [graph.inputs[0]!]: x }, { outputs: names });
      const values: [string, Float32Array][] = [];
      for (const name of names) {
        values.push([name, (await out[name]!.data()) as Float32Array]);
        out[name]!.dispose();
      }
      const t1 = performance.now();
      for (const [name, data] of values) calibrator.observe(name, data);
      observeMs += performance.now() - t1;
      floatMs += t1 - t0;
      opts.onProgress?.(start + n, total);
    }
  } finally {
    ex.dispose();
  }
  for (const [name, o] of calibrator.observers) {
    if (o.nonFinite > 0) throw new Error(`Calibration: tensor "${name}" produced ${o.nonFinite} NaN/Inf values — check the data and preprocessing`);
  }
  return { calibrator, samples: total, floatMs, observeMs, inputs: [...graph.inputs] };
}

/** Ranges for every observed tensor with `method`; graph inputs always use min/max. */
export function rangesFor(run: CalibrationRun, method: RangeMethod): Map<string, Range> {
  const out = new Map<string, Range>();
  for (const [name, o] of run.calibrator.observers) {
    out.set(name, selectRange(o, run.inputs.includes(name) ? { kind: 'minmax' } : method));
  }
  return out;
}
