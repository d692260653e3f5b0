/**
 * The wizard's first steps, main-process side: what a picked model is (in plain words, with an Edge TPU
 * preview) and what a picked dataset gives the model (preprocessing shown on a real sample, checked against the
 * model's input). Thin glue over the importers, the TFLite inspector, the Edge TPU predictor and main/data —
 * nothing here re-implements them.
 */
import { readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { PNG } from 'pngjs';
import type { DatasetInfo, EdgeTpuPreview, ModelInfo, ModelSummary, TensorInfo, VariantPage } from '../../preload/contract.ts';
import type { History } from '../history/index.ts';
import { loadModel, type LoadedModel } from '../model/load.ts';
import { optimizeForExport } from '../model/passes.ts';
import { recordSourceModel } from '../model/source-model.ts';
import { inspectGraph, inspectTflite, type ModelInspection, type TensorSummary } from '../tflite/inspect.ts';
import { graphToTflite } from '../tflite/from-ir.ts';
import { readTflite } from '../tflite/reader.ts';
import { predictEdgeTpu, STATUS } from '../devices/compat.ts';
import type { TfliteModel } from '../tflite/model.ts';
import { describePreprocessing, openDataset, preprocessingForModel, type Dataset, type Preprocessing } from '../data/index.ts';
import { gzippedSize } from '../sizes.ts';
import { ApiFailure } from './errors.ts';

const FORMAT_LABELS: Record<string, string> = {
  keras: 'Keras 3 model (.keras)',
  h5: 'Keras HDF5 model (.h5)',
  'tfjs-layers': 'TensorFlow.js layers model (model.json)',
  'tfjs-graph': 'TensorFlow.js graph model (model.json)',
  tflite: 'TensorFlow Lite model (.tflite)',
};

function tensorInfo(t: TensorSummary): TensorInfo {
  const q = t.quantization;
  const quantization =
    q?.kind === 'per-tensor'
      ? `real value = ${q.scale.toPrecision(4)} × (q ${q.zeroPoint < 0 ? '+' : '−'} ${Math.abs(q.zeroPoint)})`
      : q
        ? `${q.channels} per-channel scales (${q.minScale.toPrecision(3)}…${q.maxScale.toPrecision(3)}) along axis ${q.axis}`
        : undefined;
  return { name: t.name, shape: t.shape, dtype: t.dtype, ...(quantization ? { quantization } : {}) };
}

/** "28×28 grayscale images", "224×224 RGB images", "vectors of 4 numbers". */
function describeInput(t: TensorSummary): string {
  const dims = t.shape.length === 4 ? t.shape.slice(1) : t.shape.length === 3 ? t.shape : null;
  if (dims && dims[0]! > 0 && dims[1]! > 0 && (dims[2] === 1 || dims[2] === 3)) {
    return `${dims[0]}×${dims[1]} ${dims[2] === 1 ? 'grayscale' : 'color'} images`;
  }
  const features = t.shape.filter((d, i) => !(i === 0 && d <= 1)).reduce((a, b) => a * Math.max(b, 1), 1);
  return `inputs of shape [${t.shape.join(', ')}] (${features} numbers each)`;
}

function describeModel(r: ModelInspection, quantized: boolean): string {
  const input = r.inputs[0] ? describeInput(r.inputs[0]) : 'no inputs';
  const out = r.outputs[0];
  const classes = out ? out.shape[out.shape.length - 1]! : 0;
  const looksLikeClassifier = out && out.shape.filter((d) => d > 1).length === 1 && classes > 1;
  const what = looksLikeClassifier ? `an image or data classifier with ${classes} classes` : `a model with ${r.outputs.length} output${r.outputs.length === 1 ? '' : 's'}`;
  const weights = quantized ? 'Its weights are already quantized.' : 'Its weights are 32-bit floats.';
  return `Takes ${input} and is ${what}; ${r.opCount} layers (ops). ${weights}`;
}

/**
 * Edge TPU preview. A quantized .tflite is checked as is. A float model is checked as it would be after full
 * int8 quantization: its float tensors are the only reason ops would not map, so "unsupported data type" is
 * reported as "maps once quantized" and every other reason (unsupported op, rank, …) stands.
 */
function edgeTpuPreview(tflite: TfliteModel, quantized: boolean): EdgeTpuPreview {
  const report = predictEdgeTpu(tflite);
  const byType = new Map<string, { op: string; count: number; mapped: number; reason: string }>();
  let mapped = 0;
  for (const p of report.ops) {
    const afterInt8 = !quantized && !p.mapped && p.reason.startsWith(STATUS.dataType);
    const ok = p.mapped || afterInt8;
    if (ok) mapped++;
    const row = byType.get(p.op) ?? { op: p.op, count: 0, mapped: 0, reason: '' };
    row.count++;
    if (ok) row.mapped++;
    else row.reason ||= p.reason;
    byType.set(p.op, row);
  }
  const ops = [...byType.values()].map((r) => ({
    op: r.op,
    count: r.count,
    mapped: r.mapped,
    status: r.mapped === r.count ? (quantized ? STATUS.mapped : 'Maps once quantized to int8') : r.reason,
  }));
  const notes = quantized ? report.notes : ['This is a float model: the preview assumes full int8 quantization (the "Runs on the Edge TPU" goal does that).'];
  return { basis: quantized ? 'as-is' : 'after-int8', mapped, total: report.ops.length, ops, notes };
}

/** Error text with the picked path replaced by the file name: paths never reach the renderer. */
function redact(thrown: unknown, path: string, fileName: string): string {
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  const dir = resolve(path, '..');
  return message.split(resolve(path)).join(fileName).split(path).join(fileName).split(dir + sep).join('');
}

function badModel(file: string, path: string, thrown: unknown): ApiFailure {
  const message = redact(thrown, path, file);
  return new ApiFailure(
    'BAD_MODEL',
    message.includes(file) ? message : `${file}: ${message}`,
    'Edgewise reads Keras .keras and .h5 files, TensorFlow.js model.json (with its weight files next to it) and float .tflite files. ' +
      'If the file is one of these, re-save it from Keras (model.save("model.keras")) and try again; the message above names the part it could not read.',
  );
}

/** Imports a picked model, records it in the history and describes it. Errors are BAD_MODEL naming the file. */
export async function inspectModelFile(history: History, path: string, fileName: string): Promise<ModelInfo> {
  let loaded: LoadedModel;
  try {
    loaded = await loadModel(path);
  } catch (e) {
    throw badModel(fileName, path, e);
  }
  const bytes = new Uint8Array(readFileSync(loaded.sourceFile));
  let inspection: ModelInspection;
  let tflite: TfliteModel | null = null;
  const warnings = [...loaded.warnings];
  try {
    if (loaded.format === 'tflite') {
      inspection = inspectTflite(bytes, fileName);
      tflite = readTflite(bytes, fileName);
    } else {
      inspection = inspectGraph(loaded.graph, loaded.format, bytes, fileName);
      // Total size of a TF.js model is model.json plus its weight shards.
      if (loaded.format.startsWith('tfjs')) {
        const sizes = folderSizes(loaded.sourceFile, bytes);
        if (sizes) [inspection.fileSize, inspection.gzippedSize] = [sizes.bytes, sizes.gzipped];
      }
      tflite = graphToTflite(optimizeForExport(loaded.graph));
    }
  } catch (e) {
    if (!inspection!) throw badModel(fileName, path, e);
    warnings.push(`Edge TPU preview unavailable: ${e instanceof Error ? e.message : String(e)}`);
  }
  const quantized = inspection.quantizedTensors.length > 0;
  const model = recordSourceModel(history, loaded);
  const ops = Object.entries(inspection.opHistogram)
    .map(([op, count]) => ({ op, count }))
    .sort((a, b) => b.count - a.count);
  return {
    model,
    fileName,
    format: loaded.format,
    formatLabel: FORMAT_LABELS[loaded.format] ?? loaded.format,
    summary: describeModel(inspection, quantized),
    fileSize: inspection.fileSize,
    gzippedSize: inspection.gzippedSize,
    parameterCount: inspection.parameterCount,
    opCount: inspection.opCount,
    ops,
    inputs: inspection.inputs.map(tensorInfo),
    outputs: inspection.outputs.map(tensorInfo),
    quantized,
    edgeTpu: tflite ? edgeTpuPreview(tflite, quantized) : null,
    warnings,
  };
}

/** A TF.js model is model.json plus its weight shards: sizes (raw and gzipped) of them all, as downloaded. */
function folderSizes(modelJson: string, json: Uint8Array): { bytes: number; gzipped: number } | null {
  try {
    const manifest = JSON.parse(readFileSync(modelJson, 'utf8')) as { weightsManifest?: { paths: string[] }[] };
    const dir = join(modelJson, '..');
    let bytes = json.length;
    let gzipped = gzippedSize(json);
    for (const group of manifest.weightsManifest ?? []) {
      for (const p of group.paths) {
        const shard = new Uint8Array(readFileSync(join(dir, p)));
        bytes += shard.length;
        gzipped += gzippedSize(shard);
      }
    }
    return { bytes, gzipped };
  } catch {
    return null;
  }
}

/** A preprocessed sample back to 8-bit pixels for display (min–max stretched, so any scale shows). */
function toPng(values: Float32Array, height: number, width: number, channels: number): string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi > lo ? hi - lo : 1;
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) {
      const v = values[i * channels + (channels === 1 ? 0 : Math.min(c, channels - 1))]!;
      png.data[i * 4 + c] = Math.round(((v - lo) / span) * 255);
    }
    png.data[i * 4 + 3] = 255;
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

export interface DatasetInspectOptions {
  /** The model the data is for: its input shape sets resize/channels and is checked against the samples. */
  inputShape?: number[];
  preprocessing?: Partial<Preprocessing>;
}

/** Opens a picked dataset with the model's preprocessing, checks it fits, and renders its first sample. */
export async function inspectDatasetFile(path: string, fileName: string, options: DatasetInspectOptions = {}): Promise<DatasetInfo> {
  const preprocessing = options.inputShape ? preprocessingForModel(options.inputShape, options.preprocessing) : options.preprocessing;
  let ds: Dataset;
  try {
    ds = await openDataset({ location: path, ...(preprocessing ? { preprocessing } : {}) });
  } catch (e) {
    const message = redact(e, path, fileName);
    throw new ApiFailure('BAD_DATA', message.includes(fileName) ? message : `${fileName}: ${message}`,
      'Use a folder of images (one subfolder per class for labels), MNIST-style IDX files, .npy/.npz arrays or a CSV file.');
  }
  const problems: string[] = [];
  if (options.inputShape) {
    const expected = options.inputShape.slice(options.inputShape.length === 4 || options.inputShape.length === 2 ? 1 : 0);
    const fits = expected.length === ds.inputShape.length && expected.every((d, i) => d <= 0 || d === ds.inputShape[i]);
    if (!fits) problems.push(`A sample becomes [${ds.inputShape.join(', ')}] after preprocessing but the model takes [${expected.join(', ')}].`);
  }
  let preview: DatasetInfo['preview'] = null;
  if (ds.inputShape.length === 3) {
    const [h, w, c] = ds.inputShape as [number, number, number];
    const first = await ds.batch(0, 1);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of first) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    preview = { image: toPng(first, h, w, c), height: h, width: w, channels: c, min: lo, max: hi, label: ds.labels && ds.classNames ? (ds.classNames[ds.labels[0]!] ?? null) : ds.labels ? String(ds.labels[0]) : null };
  }
  return {
    fileName,
    kind: ds.kind,
    count: ds.count,
    labelled: !!ds.labels,
    classNames: ds.classNames ?? null,
    sampleShape: ds.inputShape,
    preprocessing: ds.preprocessing as unknown as Record<string, unknown>,
    preprocessingText: describePreprocessing(ds.preprocessing),
    warnings: ds.warnings,
    problems,
    preview,
  };
}

/** The variant page: the variant, where it came from, what was made from it, how it measured, and its graph. */
export function variantPage(history: History, id: string): VariantPage {
  const detail = history.getVariantDetail(id);
  const { benchmarks, reportKinds, ...variant } = detail;
  const children = history.variantsOfModel(variant.modelId).filter((v) => v.parentId === id);
  const reports: Record<string, unknown> = {};
  for (const kind of reportKinds) reports[kind] = history.getReport(id, kind);
  let graph: VariantPage['graph'] = null;
  if (variant.artifact) {
    try {
      const r = inspectTflite(new Uint8Array(readFileSync(variant.artifact.path)), variant.name);
      graph = {
        format: r.format,
        opCount: r.opCount,
        ops: Object.entries(r.opHistogram).map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count),
        inputs: r.inputs.map(tensorInfo),
        outputs: r.outputs.map(tensorInfo),
        quantizedTensors: r.quantizedTensors.map(tensorInfo),
        tensorCount: r.tensorCount,
        minRuntimeVersion: r.minRuntimeVersion ?? null,
      };
    } catch {
      graph = null; // not a .tflite (or unreadable): the page shows the rest
    }
  }
  return { variant, lineage: history.lineage(id), children, benchmarks: benchmarks.map((b) => ({ ...b, environment: b.environment ?? {} })), reports, graph };
}

/** The first input's shape of a recorded model (history stores the importer's io spec). */
export function modelInputShape(model: ModelSummary): number[] | undefined {
  const inputs = model.inputs as { shape?: number[] }[] | undefined;
  return Array.isArray(inputs) && Array.isArray(inputs[0]?.shape) ? inputs[0].shape : undefined;
}
