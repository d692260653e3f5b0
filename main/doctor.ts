/**
 * `edgewise doctor` and the Settings screen's health report: what works on this machine and, for what does not,
 * how to fix it. Every probe is real (it loads the backend, runs a tiny model, lists USB devices, runs the
 * compiler's --version) and never throws: a failure is a check with ok=false.
 */
import { createRequire } from 'node:module';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import type { DoctorCheck, DoctorReport } from '../preload/contract.ts';
import { initCompute, probeComputeBackends } from '../native-bridges/tfjs-backend.ts';
import { probeTfliteRuntime } from '../native-bridges/tflite-runtime.ts';
import { probeUsb } from '../native-bridges/usb.ts';
import { findEdgeTpuCompiler } from './devices/compiler.ts';
import { LATEST_VERSION, openHistory } from './history/index.ts';
import { appRoot } from './paths.ts';

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** Our own version, from the app's package.json. */
function edgewiseVersion(): string {
  return (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

function checkDataDir(dir: string): DoctorCheck {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    const history = openHistory(dir);
    try {
      const models = history.listModels({ limit: 1 }).total;
      return { name: 'History database', ok: true, detail: `${dir} (schema v${LATEST_VERSION}, ${models} model(s))` };
    } finally {
      history.close();
    }
  } catch (error) {
    return {
      name: 'History database',
      ok: false,
      detail: `${dir}: ${(error as Error).message}`,
      fix: 'Make the folder writable, or set EDGEWISE_HOME to a writable folder.',
    };
  }
}

export async function runDoctor(dataDir: string): Promise<DoctorReport> {
  let selected = 'none';
  let computeError: string | undefined;
  try {
    selected = (await initCompute()).backend;
  } catch (error) {
    computeError = (error as Error).message;
  }
  const [compute, tflite, usb, compiler] = await Promise.all([
    probeComputeBackends(),
    probeTfliteRuntime(),
    probeUsb(),
    findEdgeTpuCompiler(),
  ]);
  const checks: DoctorCheck[] = [
    computeError
      ? { name: 'Compute backend', ok: false, detail: computeError, fix: 'Unset EDGEWISE_BACKEND or reinstall with `npm ci`.' }
      : {
          name: 'Compute backend',
          ok: true,
          detail: `${selected} (${compute.backends.find((b) => b.name === selected)?.detail ?? ''})`,
          ...(selected !== 'tensorflow' ? { fix: 'Optional: `npm install @tensorflow/tfjs-node` for native speed where it installs.' } : {}),
        },
    {
      name: 'TFLite runtime',
      ok: tflite.ok,
      detail: tflite.detail,
      ...(tflite.ok ? {} : { fix: 'Reinstall dependencies with `npm ci` (@tensorflow/tfjs-tflite ships the runtime).' }),
    },
    { name: 'USB access', ok: usb.ok, detail: usb.detail, ...(usb.fix ? { fix: usb.fix } : {}) },
    {
      name: 'Edge TPU compiler',
      ok: compiler.found,
      detail: compiler.detail,
      ...(compiler.fix ? { fix: compiler.fix } : {}),
    },
    checkDataDir(dataDir),
  ];
  return {
    checks,
    compute: { backends: compute.backends, selected },
    dataDir,
    platform: `${process.platform}-${process.arch} (${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB), Node ${process.versions.node}`,
    versions: {
      edgewise: edgewiseVersion(),
      '@tensorflow/tfjs': packageVersion('@tensorflow/tfjs'),
      '@tensorflow/tfjs-tflite': packageVersion('@tensorflow/tfjs-tflite'),
      'better-sqlite3': packageVersion('better-sqlite3'),
      usb: packageVersion('usb'),
      ...(process.versions.electron ? { electron: process.versions.electron } : {}),
    },
  };
}
