/**
 * Test helpers for model fixtures: paths, seeded inputs, tfjs reference models (the "source" a fidelity check
 * compares against) and a max-abs-diff comparison with the project tolerance.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fileLoadHandler } from '../../main/model/tfjs-io.ts';
import type { Graph } from '../../main/model/ir.ts';
import { loadModel } from '../../main/model/load.ts';
import { run } from '../../main/model/executor.ts';
import { optimizeForExport } from '../../main/model/passes.ts';
import { exportTflite } from '../../main/tflite/from-ir.ts';
import { TfliteInterpreter } from '../../native-bridges/tflite-runtime.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/models/', import.meta.url));

export interface ManifestEntry {
  name: string;
  path: string;
  twin?: string;
  inputShape: (number | null)[];
}

export function fixtureManifest(): { layers: ManifestEntry[]; keras: ManifestEntry[]; h5: ManifestEntry[]; graph: ManifestEntry[] } {
  return JSON.parse(readFileSync(`${FIXTURES}manifest.json`, 'utf8'));
}

/** Deterministic inputs in [-1, 1] (a tiny LCG: independent of tfjs's random state). */
export function seededInput(shape: readonly (number | null)[], batch: number, seed = 1): Float32Array {
  const n = batch * shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

export function loadLayersReference(modelJson: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileLoadHandler(modelJson));
}

export function loadGraphReference(modelJson: string): Promise<tf.GraphModel> {
  return tf.loadGraphModel(fileLoadHandler(modelJson));
}

export async function predict(model: tf.LayersModel | tf.GraphModel, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const input = tf.tensor(x, shape);
  const y = model.predict(input) as tf.Tensor;
  const data = Float32Array.from(await y.data());
  tf.dispose([input, y]);
  return data;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The brief's fidelity bound: max |Δ| ≤ 1e-4 · max|reference| + 1e-5. */
export function fidelityTolerance(reference: ArrayLike<number>): number {
  return 1e-4 * maxAbs(reference) + 1e-5;
}

/** keras_extras has layers tfjs lacks; its reference is written with tf ops from the graph's own constants. */
export function kerasExtrasReference(graph: Graph, x: Float32Array, batch: number): Float32Array {
  const c = (suffix: string) => {
    const t = [...graph.tensors.values()].find((v) => v.name.endsWith(suffix) && v.data)!;
    return tf.tensor(t.data as Float32Array, t.shape);
  };
  return tf.tidy(() => {
    // Normalization: mean/variance stored in the file (0.1,-0.2,0.3 / 0.5,2,1.5); recompute from definition.
    const xin = tf.tensor(x, [batch, 4, 4, 3]);
    const norm = tf.div(tf.sub(xin, tf.tensor1d([0.1, -0.2, 0.3])), tf.sqrt(tf.tensor1d([0.5, 2, 1.5])));
    const conv = (k: string) => tf.add(tf.conv2d(norm as tf.Tensor4D, tf.transpose(c(`${k}/kernel`), [1, 2, 3, 0]) as tf.Tensor4D, 1, 'valid'), c(`${k}/bias`));
    const hs = conv('conv_hs');
    const hardSilu = tf.div(tf.mul(hs, tf.relu6(tf.add(hs, 3))), 6);
    const si = conv('conv_silu');
    const silu = tf.mul(si, tf.sigmoid(si));
    const pooled = tf.mean(tf.sub(hardSilu, silu), [1, 2]);
    return tf.add(tf.matMul(pooled, c('out/kernel'), false, true), c('out/bias')).dataSync() as Float32Array;
  });
}

/** Runs a .tflite sample by sample (the exported models have batch 1) and concatenates the first output. */
export async function tfliteOutputs(bytes: Uint8Array, x: Float32Array, batch: number): Promise<Float32Array> {
  const it = await TfliteInterpreter.create(bytes);
  try {
    const per = x.length / batch;
    const outs: ArrayLike<number>[] = [];
    for (let i = 0; i < batch; i++) {
      it.setInput(0, x.subarray(i * per, (i + 1) * per));
      it.invoke();
      outs.push(it.output(0));
    }
    const res = new Float32Array(outs.reduce((n, o) => n + o.length, 0));
    let o = 0;
    for (const v of outs) {
      res.set(v, o);
      o += v.length;
    }
    return res;
  } finally {
    it.dispose();
  }
}

export interface FidelityCase {
  /** Absolute model path. */
  path: string;
  inputShape: (number | null)[];
  /** The source model's outputs in tfjs; undefined when there is no independent reference (the executor is used). */
  reference: (x: Float32Array, shape: number[]) => Promise<Float32Array | undefined>;
  /** Map seeded [-1, 1] inputs to the model's input range. */
  input?: (x: Float32Array) => Float32Array;
}

/** import → executor and import → optimizeForExport → exportTflite → TFLite runtime, both against the reference. */
export async function checkFidelity(c: FidelityCase, n: number): Promise<{ executor: number; tflite: number; tol: number; refMax: number }> {
  const { graph } = await loadModel(c.path);
  const shape = [n, ...(c.inputShape.slice(1) as number[])];
  const raw = seededInput(c.inputShape, n, 13);
  const x = c.input ? c.input(raw) : raw;
  const exec = (await run(graph, { [graph.inputs[0]]: x }))[graph.outputs[0]].data;
  const ref = (await c.reference(x, shape)) ?? exec;
  const lite = await tfliteOutputs(exportTflite(optimizeForExport(graph)), x, n);
  return { executor: maxAbsDiff(exec, ref), tflite: maxAbsDiff(lite, ref), tol: fidelityTolerance(ref), refMax: maxAbs(ref) };
}
