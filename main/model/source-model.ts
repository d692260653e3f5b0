/**
 * Recording an imported model in the history: one row per distinct source file content (sha256), with the
 * input/output spec and parameter count users see in the history and the wizard. Shared by `edgewise convert`,
 * `edgewise optimize` and the app's import step.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ModelSummary } from '../../preload/contract.ts';
import type { History } from '../history/index.ts';
import { parameterCount, tensorOf, type Graph } from './ir.ts';
import type { LoadedModel } from './load.ts';

export interface TensorSpec {
  name: string;
  shape: number[];
  dtype: string;
}

export function ioSpec(graph: Graph): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const spec = (name: string): TensorSpec => {
    const t = tensorOf(graph, name);
    return { name, shape: [...t.shape], dtype: t.dtype };
  };
  return { inputs: graph.inputs.map(spec), outputs: graph.outputs.map(spec) };
}

/** A display name: the file name, or the folder name for a TF.js `model.json`. */
export function modelDisplayName(sourceFile: string): string {
  const file = basename(sourceFile);
  return file === 'model.json' ? basename(dirname(sourceFile)) : file;
}

/** Returns the history's model for this file content, adding it on first sight. */
export function recordSourceModel(history: History, loaded: LoadedModel): ModelSummary {
  const sha256 = createHash('sha256').update(readFileSync(loaded.sourceFile)).digest('hex');
  const existing = history.findModelBySha256(sha256);
  if (existing) return existing;
  return history.addModel({
    name: modelDisplayName(loaded.sourceFile),
    format: loaded.format,
    path: loaded.sourceFile,
    sha256,
    ...ioSpec(loaded.graph),
    parameterCount: parameterCount(loaded.graph),
  });
}
