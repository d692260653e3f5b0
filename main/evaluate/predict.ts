/**
 * Runs a model over a dataset in the REAL TFLite runtime (WASM interpreter) and returns float outputs.
 * Non-.tflite models are exported to a float .tflite first (the same path every variant takes), so float
 * references and quantized variants are measured by the same runtime. Integer I/O is handled from the file's
 * own quantization parameters: inputs are quantized, outputs dequantized.
 */
import { readFileSync } from 'node:fs';
import type { Dataset } from '../data/index.ts';
import type { Graph } from '../model/ir.ts';
import { loadModel, type LoadedModel } from '../model/load.ts';
import { optimizeForExport } from '../model/passes.ts';
import { exportTflite } from '../tflite/from-ir.ts';
import { readTflite } from '../tflite/reader.ts';
import { TfliteInterpreter } from '../../native-bridges/tflite-runtime.ts';
import { dequantizeAffine, quantizeAffine } from '../optimize/quantize/math.ts';
import { badData } from './errors.ts';

export interface TfliteModelFile {
  bytes: Uint8Array;
  /** The float IR (for non-tflite sources, the graph that was exported). */
  graph: Graph;
  loaded: LoadedModel;
}

/** Loads any supported model; `.tflite` files keep their bytes, others are exported to float TFLite. */
export async function loadAsTflite(path: string): Promise<TfliteModelFile> {
  const loaded = await loadModel(path);
  if (loaded.format === 'tflite') return { bytes: new Uint8Array(readFileSync(loaded.sourceFile)), graph: loaded.graph, loaded };
  const graph = optimizeForExport(loaded.graph);
  return { bytes: exportTflite(graph), graph, loaded };
}

interface IoQuant { type: string; scale: number; zeroPoint: number; elements: number }

function ioQuant(bytes: Uint8Array): { input: IoQuant; output: IoQuant[] } {
  const model = readTflite(bytes);
  const sg = model.subgraphs[0]!;
  const info = (i: number): IoQuant => {
    const t = sg.tensors[i]!;
    return {
      type: t.type, scale: t.quantization?.scale[0] ?? 1, zeroPoint: t.quantization?.zeroPoint[0] ?? 0,
      elements: t.shape.reduce((a, d) => a * Math.max(d, 1), 1),
    };
  };
  if (sg.inputs.length !== 1) throw new Error(`Evaluation supports models with one input; this model has ${sg.inputs.length}`);
  return { input: info(sg.inputs[0]!), output: sg.outputs.map(info) };
}

export interface Predictions {
  count: number;
  /** Values per sample of output 0. */
  width: number;
  /** count × width float values (dequantized when the model's output is integer). */
  outputs: Float32Array;
  /** Mean wall time of one invoke (set input + invoke + read output). */
  msPerSample: number;
}

export interface PredictOptions {
  limit?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export async function predictTflite(bytes: Uint8Array, ds: Dataset, opts: PredictOptions = {}): Promise<Predictions> {
  const io = ioQuant(bytes);
  const per = ds.inputShape.reduce((a, b) => a * b, 1);
  if (per !== io.input.elements) {
    throw badData(`Dataset "${ds.location}" gives samples of shape [${ds.inputShape.join(', ')}] (${per} values) but the model input takes ${io.input.elements} values — set the preprocessing (e.g. --size HxW) to match the model`);
  }
  const total = Math.min(ds.count, opts.limit ?? ds.count);
  const width = io.output[0]!.elements;
  const outputs = new Float32Array(total * width);
  const it = await TfliteInterpreter.create(bytes);
  const inType = io.input.type === 'INT8' ? 'int8' : io.input.type === 'UINT8' ? 'uint8' : null;
  const outQ = io.output[0]!;
  let invokeMs = 0;
  try {
    const chunk = 64;
    for (let start = 0; start < total; start += chunk) {
      if (opts.signal?.aborted) throw new Error('Evaluation cancelled');
      const n = Math.min(chunk, total - start);
      const x = await ds.batch(start, n);
      for (let i = 0; i < n; i++) {
        const sample = x.subarray(i * per, (i + 1) * per);
        const t0 = performance.now();
        it.setInput(0, inType ? quantizeAffine(sample, io.input, inType) : sample);
        it.invoke();
        const y = it.output(0);
        invokeMs += performance.now() - t0;
        outputs.set(outQ.type === 'FLOAT32' ? (y as Float32Array) : dequantizeAffine(y, outQ), (start + i) * width);
      }
      opts.onProgress?.(start + n, total);
    }
  } finally {
    it.dispose();
  }
  return { count: total, width, outputs, msPerSample: invokeMs / Math.max(1, total) };
}
