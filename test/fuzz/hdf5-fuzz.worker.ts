// Runs fuzz cases of an HDF5-based importer inside a worker and reports each case, so the parent can detect a case
// that never returns (the HDF5 C library loops on some corrupt files), terminate the worker and go on.
import { parentPort, workerData } from 'node:worker_threads';
import { ensureHdf5 } from '../../main/model/hdf5.ts';
import { importKerasV3Sync } from '../../main/model/importers/keras-v3.ts';
import { importKerasH5Sync } from '../../main/model/importers/keras-h5.ts';
import { ModelImportError } from '../../main/model/errors.ts';
import { caseInput } from './harness.ts';

export interface Hdf5FuzzJob {
  kind: 'keras' | 'h5';
  seeds: { name: string; bytes: Uint8Array }[];
  baseSeed: number;
  from: number;
  to: number;
}
export interface Hdf5FuzzReport {
  index: number;
  outcome: 'parsed' | 'rejected' | 'failure';
  problem?: string;
}

const job = workerData as Hdf5FuzzJob;
await ensureHdf5();
const parse = job.kind === 'keras' ? importKerasV3Sync : importKerasH5Sync;
for (let i = job.from; i < job.to; i++) {
  const { bytes, file } = caseInput(job.seeds, (job.baseSeed + i) >>> 0);
  let report: Hdf5FuzzReport;
  try {
    parse(bytes, file.name);
    report = { index: i, outcome: 'parsed' };
  } catch (e) {
    report = e instanceof ModelImportError && e.message.startsWith(e.file)
      ? { index: i, outcome: 'rejected' }
      : { index: i, outcome: 'failure', problem: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
  parentPort!.postMessage(report);
}
