/**
 * The real TFLite interpreter (TensorFlow Lite compiled to WebAssembly with XNNPACK, from
 * @tensorflow/tfjs-tflite 0.0.1-alpha.10) running in plain Node. This is the ground truth for every correctness
 * check in Edgewise.
 *
 * The package's loader is browser-only: without `window` it assumes a Web Worker and calls
 * `importScripts(<wasm dir>/tflite_web_api_cc_simd[_threaded].js)`. We provide `self`, `location` and
 * `importScripts`, evaluate the Emscripten glue with `vm`, force the single-threaded SIMD build (pthreads need Web
 * Workers) and hand over the `.wasm` bytes as `wasmBinary` (the worker path would `fetch()` a URL).
 * The glue's own log lines ("INFO: Created TensorFlow Lite XNNPACK delegate…", load errors) are captured instead
 * of printed; load errors are re-thrown with them.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import vm from 'node:vm';

const require = createRequire(import.meta.url);

type RunnerTensor = {
  id: number;
  dataType: string;
  name: string;
  shape: string;
  data(): Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
};
interface ModelRunner {
  getInputs(): RunnerTensor[];
  getOutputs(): RunnerTensor[];
  infer(): boolean;
  cleanUp(): void;
}
interface TfliteModule {
  setWasmPath(path: string): void;
  loadTFLiteModel(model: ArrayBuffer, options?: { numThreads?: number }): Promise<{ modelRunner: ModelRunner }>;
}

export type RuntimeTypedArray = Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export interface RuntimeTensorInfo {
  name: string;
  shape: number[];
  dtype: string;
}

let loading: Promise<TfliteModule> | undefined;
let wasmBuild = '';
/** Recent lines the WASM glue printed; included in load errors (e.g. "unresolved custom op"). */
const glueLog: string[] = [];

function logLine(line: string): void {
  glueLog.push(String(line));
  if (glueLog.length > 50) glueLog.shift();
}

function installShim(wasmDir: string): void {
  const g = globalThis as Record<string, unknown>;
  g.self ??= globalThis;
  g.location ??= { origin: '', href: 'file://' + wasmDir };
  g.importScripts = (url: string) => {
    // Force the non-threaded SIMD build whatever the loader asked for.
    const file = join(wasmDir, basename(String(url).replace(/^file:\/\//, '')).replace(/_threaded\.js$/, '.js'));
    vm.runInThisContext(readFileSync(file, 'utf8'), { filename: file });
    const factory = g.tflite_web_api_ModuleFactory as (opts: object) => unknown;
    const wasmBinary = readFileSync(file.replace(/\.js$/, '.wasm'));
    g.tflite_web_api_ModuleFactory = (opts: object) =>
      factory({ ...opts, wasmBinary, locateFile: (p: string) => join(wasmDir, p), print: logLine, printErr: logLine });
    wasmBuild = basename(file);
  };
}

/** Loads the WASM interpreter once (idempotent; concurrent callers share the same load). */
export function loadTfliteRuntime(): Promise<void> {
  loading ??= (async () => {
    const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm') + '/';
    installShim(wasmDir);
    require('@tensorflow/tfjs-backend-cpu'); // tfjs-tflite needs a registered tfjs backend for its tensor API
    const tflite = require('@tensorflow/tfjs-tflite') as TfliteModule;
    tflite.setWasmPath(wasmDir);
    return tflite;
  })();
  return loading.then(() => undefined);
}

function parseShape(s: string): number[] {
  return s.split(',').filter((x) => x !== '').map(Number);
}

function runtimeError(message: string, log: string[]): Error {
  const detail = log.filter((l) => !/XNNPACK delegate/.test(l)).join('\n').trim();
  const custom = /unresolved custom op:?\s*([\w.\-/]*[\w\-/])/i.exec(detail);
  if (custom) return new Error(`TFLite runtime: the model uses custom op "${custom[1]}", which the WASM interpreter does not provide`);
  return new Error(`TFLite runtime: ${message}${detail ? `\n${detail}` : ''}`);
}

/**
 * One loaded model in the WASM interpreter (single-threaded). Typical loop:
 * `setInput(0, x); invoke(); const y = output(0);` and `dispose()` when done (frees WASM memory).
 */
export class TfliteInterpreter {
  readonly inputs: RuntimeTensorInfo[];
  readonly outputs: RuntimeTensorInfo[];
  private runner: ModelRunner | null;
  private readonly inTensors: RunnerTensor[];
  private readonly outTensors: RunnerTensor[];

  private constructor(runner: ModelRunner) {
    this.runner = runner;
    this.inTensors = runner.getInputs();
    this.outTensors = runner.getOutputs();
    const info = (t: RunnerTensor) => ({ name: t.name, shape: parseShape(t.shape), dtype: t.dataType });
    this.inputs = this.inTensors.map(info);
    this.outputs = this.outTensors.map(info);
  }

  static async create(bytes: Uint8Array): Promise<TfliteInterpreter> {
    await loadTfliteRuntime();
    const tflite = await loading!;
    glueLog.length = 0;
    const copy = bytes.slice().buffer; // the runtime keeps the buffer; never hand it a view of someone else's
    let model: { modelRunner: ModelRunner };
    try {
      model = await tflite.loadTFLiteModel(copy, { numThreads: 1 });
    } catch (e) {
      throw runtimeError(`cannot load the model (${e instanceof Error ? e.message : String(e)})`, glueLog);
    }
    return new TfliteInterpreter(model.modelRunner);
  }

  private live(): ModelRunner {
    if (!this.runner) throw new Error('TfliteInterpreter: used after dispose()');
    return this.runner;
  }

  setInput(i: number, data: ArrayLike<number>): void {
    this.live();
    const t = this.inTensors[i];
    if (!t) throw new Error(`TfliteInterpreter: no input ${i} (the model has ${this.inTensors.length})`);
    const dst = t.data();
    if (data.length !== dst.length) {
      throw new Error(`TfliteInterpreter: input ${i} '${t.name}' needs ${dst.length} ${t.dataType} values, got ${data.length}`);
    }
    dst.set(data);
  }

  invoke(): void {
    const runner = this.live();
    glueLog.length = 0;
    let ok: boolean;
    try {
      ok = runner.infer();
    } catch (e) {
      throw runtimeError(`invoke failed (${e instanceof Error ? e.message : String(e)})`, glueLog);
    }
    if (!ok) throw runtimeError('invoke failed', glueLog);
  }

  /** A copy of output `i` (the runtime reuses its memory on the next invoke). */
  output(i: number): RuntimeTypedArray {
    this.live();
    const t = this.outTensors[i];
    if (!t) throw new Error(`TfliteInterpreter: no output ${i} (the model has ${this.outTensors.length})`);
    return t.data().slice();
  }

  dispose(): void {
    this.runner?.cleanUp();
    this.runner = null;
  }
}

/** For `edgewise doctor`: can the runtime load and run a tiny model here? */
export async function probeTfliteRuntime(): Promise<{ ok: boolean; detail: string }> {
  try {
    const { tinyAddModel } = await import('../main/tflite/tiny.ts');
    const t0 = performance.now();
    const interp = await TfliteInterpreter.create(tinyAddModel());
    try {
      interp.setInput(0, new Float32Array([1, 2]));
      interp.setInput(1, new Float32Array([3, 4]));
      interp.invoke();
      const out = Array.from(interp.output(0));
      if (out[0] !== 4 || out[1] !== 6) return { ok: false, detail: `runtime loaded (${wasmBuild}) but 1+3, 2+4 gave ${out.join(', ')}` };
    } finally {
      interp.dispose();
    }
    return { ok: true, detail: `TFLite WASM runtime (${wasmBuild}, 1 thread) ran a test model in ${(performance.now() - t0).toFixed(0)} ms` };
  } catch (e) {
    return { ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
}
