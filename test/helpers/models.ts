/**
 * Test helpers for model fixtures: paths, seeded inputs, tfjs reference models (the "source" a fidelity check
 * compares against) and a max-abs-diff comparison with the project tolerance.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fileLoadHandler } from '../../main/model/tfjs-io.ts';

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
