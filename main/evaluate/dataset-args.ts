/**
 * Dataset arguments as the CLI, the job and the API pass them: a location plus preprocessing flags. Defaults
 * come from the model's input shape (resize H×W, channels) so a folder of photos "just works"; the resulting
 * preprocessing is part of the dataset record and is shown to the user.
 */
import { existsSync } from 'node:fs';
import { detectKind, openDataset, preprocessingForModel, expectedRange, type Dataset, type Preprocessing, type ScaleMode } from '../data/index.ts';
import type { Graph } from '../model/ir.ts';

export interface DatasetArgs {
  location: string;
  /** IDX labels file or .npy labels (default for IDX: the matching *-labels-idx1-ubyte next to the images). */
  labels?: string;
  /** 'unit' (0-1, default), 'symmetric' (-1-1) or 'raw'. CLI spellings 0-1, -1-1, raw are accepted. */
  scale?: string;
  mean?: number[];
  std?: number[];
  /** "HxW". */
  size?: string;
  limit?: number;
}

const SCALES: Record<string, ScaleMode> = { '0-1': 'unit', unit: 'unit', '-1-1': 'symmetric', symmetric: 'symmetric', raw: 'raw' };

export function parseNumberList(value: string | undefined, flag: string): number[] | undefined {
  if (value === undefined) return undefined;
  const xs = value.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !Number.isFinite(x))) throw new Error(`${flag} must be a comma-separated list of numbers, got "${value}"`);
  return xs;
}

export function preprocessingFromArgs(graph: Graph, a: DatasetArgs): Preprocessing {
  const base: Partial<Preprocessing> = {};
  if (a.scale !== undefined) {
    const s = SCALES[a.scale];
    if (!s) throw new Error(`--scale must be 0-1, -1-1 or raw, got "${a.scale}"`);
    base.scale = s;
  }
  if (a.mean) base.mean = a.mean;
  if (a.std) base.std = a.std;
  if (a.size !== undefined) {
    const m = /^(\d+)x(\d+)$/i.exec(a.size);
    if (!m) throw new Error(`--size must look like 224x224 (height x width), got "${a.size}"`);
    base.resize = { height: Number(m[1]), width: Number(m[2]) };
  }
  const input = graph.tensors.get(graph.inputs[0]!);
  return preprocessingForModel(input?.shape ?? [], base);
}

/** Opens a dataset for a model: preprocessing from the flags and the model's input shape. */
export async function openDatasetFor(graph: Graph, a: DatasetArgs): Promise<Dataset> {
  const p = preprocessingFromArgs(graph, a);
  const input = graph.tensors.get(graph.inputs[0]!);
  // Resizing applies to images in a folder or IDX file for an image model; arrays (.npy/.npz/CSV) are taken as
  // they are, so a shape mismatch is reported against the model's input instead of being resized away.
  const kind = detectKind(a.location);
  const isImage = (input?.shape.length ?? 0) === 4 && (kind === 'image-folder' || kind === 'idx');
  const preprocessing: Preprocessing = isImage
    ? p
    : { scale: a.scale === undefined && kind !== 'idx' ? 'raw' : p.scale, channelOrder: p.channelOrder, ...(p.mean ? { mean: p.mean } : {}), ...(p.std ? { std: p.std } : {}) };
  let labelsPath = a.labels;
  if (labelsPath === undefined && /-images-idx3-ubyte$/.test(a.location)) {
    const guess = a.location.replace(/-images-idx3-ubyte$/, '-labels-idx1-ubyte');
    if (existsSync(guess)) labelsPath = guess;
  }
  return openDataset({ location: a.location, kind, labelsPath, preprocessing, limit: a.limit, modelRange: expectedRange(preprocessing) });
}
