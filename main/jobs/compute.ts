/**
 * Jobs honour the compute settings (Settings screen, `<dataDir>/settings.json`). Each job runs in its own
 * worker thread with its own copy of process.env, so setting EDGEWISE_BACKEND here — before anything calls
 * initCompute — selects the backend for that job only. An EDGEWISE_BACKEND already in the environment wins:
 * it is the explicit override tests and debugging use.
 *
 * Threads: the tfjs wasm backend and the TFLite WASM runtime run single-threaded in Node, so the thread-count
 * setting has nothing to apply to here; the job log says so instead of pretending.
 */
import { loadSettings } from '../settings.ts';
import { initCompute } from '../../native-bridges/tfjs-backend.ts';

export interface JobCompute {
  backend: string;
  /** Where the choice came from. */
  source: 'environment' | 'settings' | 'automatic';
  /** One line for the job log. */
  line: string;
}

export async function initJobCompute(dataDir: string): Promise<JobCompute> {
  const settings = loadSettings(dataDir);
  let source: JobCompute['source'] = 'automatic';
  if (process.env.EDGEWISE_BACKEND) source = 'environment';
  else if (settings.computeBackend !== 'auto') {
    process.env.EDGEWISE_BACKEND = settings.computeBackend;
    source = 'settings';
  }
  let backend: string;
  try {
    ({ backend } = await initCompute());
  } catch (e) {
    if (source !== 'settings') throw e;
    throw Object.assign(
      // A job's error keeps only message and code, so the way out is part of the message.
      new Error(`The compute backend "${settings.computeBackend}" chosen in Settings is not available on this computer (${(e as Error).message}). Choose "Automatic" in Settings and run the job again.`),
      { code: 'UNSUPPORTED' },
    );
  }
  const threads = settings.threads === null ? '' : ` (the ${settings.threads}-thread setting does not apply: the wasm runtimes are single-threaded in Node)`;
  const from = source === 'settings' ? 'from Settings' : source === 'environment' ? 'from EDGEWISE_BACKEND' : 'automatic';
  return { backend, source, line: `compute backend: ${backend} (${from}), 1 thread${threads}` };
}
