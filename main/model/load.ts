/**
 * `loadModel(path)`: detects the format by content (never by extension alone) and returns the IR graph.
 *   zip magic "PK\3\4"        → Keras 3 .keras
 *   HDF5 signature            → legacy Keras .h5
 *   "TFL3" at byte 4          → .tflite (helper C's reader + tfliteToGraph)
 *   JSON with modelTopology   → TF.js layers model, or TF.js graph model when format is "graph-model"
 * A folder is accepted when it holds a model.json.
 */
import { ModelImportError } from './errors.ts';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Graph } from './ir.ts';
import { isHdf5 } from './hdf5.ts';
import { importKerasV3 } from './importers/keras-v3.ts';
import { importKerasH5 } from './importers/keras-h5.ts';
import { importTfjsLayers } from './importers/tfjs-layers.ts';
import { importTfjsGraph } from './importers/tfjs-graph.ts';
import { readTflite } from '../tflite/reader.ts';
import { tfliteToGraph } from '../tflite/to-ir.ts';

export type ModelFormat = 'keras' | 'h5' | 'tfjs-layers' | 'tfjs-graph' | 'tflite';

export interface LoadedModel {
  graph: Graph;
  format: ModelFormat;
  sourceFile: string;
  warnings: string[];
}

/** Model files above this size are refused up front (the largest sensible edge model is far smaller). */
const MAX_MODEL_FILE_BYTES = 2 ** 31;

export function detectFormat(bytes: Uint8Array): ModelFormat | 'json' | undefined {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'keras';
  if (isHdf5(bytes)) return 'h5';
  if (bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3') return 'tflite';
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09 || bytes[i] === 0xef || bytes[i] === 0xbb || bytes[i] === 0xbf)) i++;
  if (bytes[i] === 0x7b) return 'json';
  return undefined;
}

export async function loadModel(path: string): Promise<LoadedModel> {
  let file = resolve(path);
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new Error(`Model file not found: ${file}`);
  }
  if (st.isDirectory()) {
    file = join(file, 'model.json');
    try {
      st = statSync(file);
    } catch {
      throw new Error(`${path} is a folder without a model.json; pick the model file itself`);
    }
  }
  if (st.size > MAX_MODEL_FILE_BYTES) throw new ModelImportError(file, `${st.size} bytes is larger than Edgewise accepts (2 GiB)`);
  if (st.size === 0) throw new ModelImportError(file, `the file is empty`);
  const bytes = new Uint8Array(readFileSync(file));
  const kind = detectFormat(bytes);
  const warnings: string[] = [];
  let graph: Graph;
  let format: ModelFormat;
  switch (kind) {
    case 'keras':
      graph = await importKerasV3(bytes, file);
      format = 'keras';
      break;
    case 'h5':
      graph = await importKerasH5(bytes, file);
      format = 'h5';
      break;
    case 'tflite':
      graph = tfliteToGraph(readTflite(bytes, file), file);
      format = 'tflite';
      break;
    case 'json':
      ({ graph, format } = importModelJson(bytes, file));
      break;
    default:
      throw new ModelImportError(file, `unrecognized model format. Edgewise imports Keras .keras / .h5, TF.js model.json (layers or graph) and float .tflite`);
  }
  graph.metadata.sourceFile = file;
  if (graph.metadata.weightQuantization) {
    warnings.push(`The weights were stored ${graph.metadata.weightQuantization}-quantized by the TF.js converter; ` +
      'Edgewise dequantizes them, so the float baseline already carries that rounding');
  }
  return { graph, format, sourceFile: file, warnings };
}

/** A TF.js model.json (layers or graph model; weight shards are read from its folder). */
export function importModelJson(bytes: Uint8Array, file: string): { graph: Graph; format: ModelFormat } {
  let json: any;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ModelImportError(file, `invalid JSON (${e instanceof Error ? e.message : e})`);
  }
  if (!json || typeof json !== 'object') throw new ModelImportError(file, 'the JSON is not an object; not a TF.js model.json');
  if (json.format === 'graph-model' || json.modelTopology?.node) return { graph: importTfjsGraph(json, file), format: 'tfjs-graph' };
  if (json.modelTopology) return { graph: importTfjsLayers(json, file), format: 'tfjs-layers' };
  throw new ModelImportError(file, 'JSON without modelTopology is not a TF.js model (expected model.json from tfjs or tensorflowjs_converter)');
}
