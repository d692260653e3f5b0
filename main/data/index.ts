/**
 * Public entry of the data module: `openDataset` detects the kind from the location and returns a Dataset whose
 * samples are already preprocessed for the model.
 */
import { statSync, openSync, readSync, closeSync } from 'node:fs';
import { makeDataset, type Dataset, type DatasetKind, type SampleSource } from './dataset.ts';
import { imageFolderSource } from './image-folder.ts';
import { idxSource } from './idx.ts';
import { npySource } from './npy.ts';
import { csvSource } from './csv.ts';
import { DEFAULT_PREPROCESSING, type Preprocessing } from './preprocess.ts';

export type { Dataset, DatasetKind, DatasetRecord, Batch } from './dataset.ts';
export { datasetRecord, checkValueRange, MIN_CALIBRATION_SAMPLES } from './dataset.ts';
export type { Preprocessing, RawSample, ScaleMode } from './preprocess.ts';
export { describePreprocessing, preprocessingForModel, preprocessSample, expectedRange, DEFAULT_PREPROCESSING } from './preprocess.ts';
export { decodeImage, decodeImageFile } from './image.ts';
export { parseNpy, parseNpz } from './npy.ts';

export interface DatasetSpec {
  location: string;
  /** Detected from the location when absent. */
  kind?: DatasetKind;
  /** IDX labels file, or a .npy of labels for a .npy of samples. */
  labelsPath?: string;
  preprocessing?: Partial<Preprocessing>;
  /** Use only the first `limit` samples (IDX, npy, npz, CSV). */
  limit?: number;
  /** CSV label column (name, index, 'last' or 'none'). */
  labelColumn?: string | number;
  /** Array names inside a .npz. */
  xKey?: string;
  yKey?: string;
  /** The value range the model expects, when known (for the range warning). */
  modelRange?: [number, number];
}

export function detectKind(location: string): DatasetKind {
  let st;
  try {
    st = statSync(location);
  } catch (e) {
    throw new Error(`Dataset "${location}" does not exist or cannot be read: ${(e as Error).message}`);
  }
  if (st.isDirectory()) return 'image-folder';
  const lower = location.toLowerCase();
  if (lower.endsWith('.npy')) return 'npy';
  if (lower.endsWith('.npz')) return 'npz';
  if (/\.(csv|tsv)(\.gz)?$/.test(lower)) return 'csv';
  const fd = openSync(location, 'r');
  const magic = Buffer.alloc(4);
  readSync(fd, magic, 0, 4, 0);
  closeSync(fd);
  if (magic[0] === 0 && magic[1] === 0 && [8, 9, 0xb, 0xc, 0xd, 0xe].includes(magic[2])) return 'idx';
  throw new Error(`Cannot tell what kind of dataset "${location}" is: use a folder of images, an IDX file, .npy, .npz or .csv`);
}

export async function openDataset(spec: DatasetSpec): Promise<Dataset> {
  const kind = spec.kind ?? detectKind(spec.location);
  const p: Preprocessing = { ...DEFAULT_PREPROCESSING, ...spec.preprocessing };
  let src: SampleSource;
  switch (kind) {
    case 'image-folder':
      src = imageFolderSource(spec.location);
      if (spec.limit !== undefined) src = { ...src, count: Math.min(src.count, spec.limit), labels: src.labels?.subarray(0, spec.limit) };
      break;
    case 'idx':
      src = idxSource(spec.location, { labelsPath: spec.labelsPath, limit: spec.limit });
      break;
    case 'npy':
    case 'npz':
      src = npySource(spec.location, { labelsPath: spec.labelsPath, xKey: spec.xKey, yKey: spec.yKey, limit: spec.limit });
      break;
    case 'csv':
      src = csvSource(spec.location, { labelColumn: spec.labelColumn, limit: spec.limit });
      break;
    default:
      throw new Error(`Unknown dataset kind "${kind as string}"`);
  }
  return makeDataset(src, p, { modelRange: spec.modelRange });
}
