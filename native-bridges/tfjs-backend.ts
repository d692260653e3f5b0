/**
 * Compute backend selection for tfjs in the main process, CLI and workers.
 * Preference: @tensorflow/tfjs-node ('tensorflow', native, optional dependency that cannot install offline) →
 * @tensorflow/tfjs-backend-wasm ('wasm', SIMD, single thread in Node) with the three backprop kernels it lacks →
 * the pure-JS 'cpu' backend. EDGEWISE_BACKEND=wasm|cpu|tensorflow forces one (tests use it).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { registerWasmGradKernels } from './wasm-grad-kernels.ts';

export type ComputeBackendName = 'tensorflow' | 'wasm' | 'cpu';
export interface ComputeBackendProbe {
  name: ComputeBackendName;
  available: boolean;
  detail: string;
}

const require = createRequire(import.meta.url);
let initialized: Promise<{ backend: string }> | undefined;
let wasmPathsSet = false;

async function tryTfjsNode(): Promise<string | undefined> {
  try {
    // Not a static import: the package is optional and absent on most machines.
    const spec = '@tensorflow/tfjs-node';
    await import(spec);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
}

function prepareWasm(): void {
  if (wasmPathsSet) return;
  // The .wasm binaries ship in the package's dist folder; Node reads them from disk (no fetch).
  const dir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  setWasmPaths(dir + '/');
  registerWasmGradKernels(['wasm']);
  wasmPathsSet = true;
}

async function selectBackend(name: ComputeBackendName): Promise<void> {
  if (name === 'tensorflow') {
    const err = await tryTfjsNode();
    if (err) throw new Error(`EDGEWISE_BACKEND=tensorflow but @tensorflow/tfjs-node cannot be loaded: ${err}`);
  }
  if (name === 'wasm') prepareWasm();
  if (!(await tf.setBackend(name))) throw new Error(`The tfjs backend "${name}" failed to initialize`);
  await tf.ready();
}

/** Selects and initializes the compute backend once per process; later calls return the same answer. */
export function initCompute(): Promise<{ backend: string }> {
  initialized ??= (async () => {
    const forced = process.env.EDGEWISE_BACKEND;
    if (forced) {
      if (forced !== 'wasm' && forced !== 'cpu' && forced !== 'tensorflow') {
        throw new Error(`EDGEWISE_BACKEND="${forced}" is not one of wasm, cpu, tensorflow`);
      }
      await selectBackend(forced);
    } else if ((await tryTfjsNode()) === undefined) {
      await selectBackend('tensorflow');
    } else {
      try {
        await selectBackend('wasm');
      } catch {
        await selectBackend('cpu');
      }
    }
    return { backend: tf.getBackend() };
  })();
  initialized.catch(() => (initialized = undefined));
  return initialized;
}

/** What `edgewise doctor` shows: each backend, whether it works here, and why not. Leaves the selection as it was. */
export async function probeComputeBackends(): Promise<{ selected: string | undefined; backends: ComputeBackendProbe[] }> {
  const nodeErr = await tryTfjsNode();
  const backends: ComputeBackendProbe[] = [
    {
      name: 'tensorflow',
      available: nodeErr === undefined,
      detail: nodeErr === undefined ? 'native libtensorflow via @tensorflow/tfjs-node' : `@tensorflow/tfjs-node not loadable: ${nodeErr}`,
    },
  ];
  let wasmDetail: string;
  let wasmOk = false;
  try {
    prepareWasm();
    const current = tf.getBackend();
    wasmOk = await tf.setBackend('wasm');
    wasmDetail = wasmOk
      ? `SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, 1 thread, backprop kernels registered`
      : 'failed to initialize';
    if (current && current !== 'wasm') await tf.setBackend(current);
  } catch (e) {
    wasmDetail = e instanceof Error ? e.message : String(e);
  }
  backends.push({ name: 'wasm', available: wasmOk, detail: wasmDetail });
  backends.push({ name: 'cpu', available: true, detail: 'pure JavaScript (slow; reference kernels)' });
  let selected: string | undefined;
  try {
    selected = tf.getBackend();
  } catch {
    selected = undefined;
  }
  return { selected, backends };
}
