/**
 * Runs the .keras / .h5 importers in a worker thread with a deadline, so a corrupt file that sends the HDF5
 * library into an endless loop becomes a clear error instead of a hung app (found by the importer fuzz test).
 */
import type { Graph } from '../ir.ts';
import { ModelImportError } from '../errors.ts';
import { siblingModule, startModuleWorker } from '../../workers.ts';

export interface Hdf5ImportRequest {
  kind: 'keras' | 'h5';
  bytes: Uint8Array;
  file: string;
}
export type Hdf5ImportReply = { graph: Graph } | { error: string };

const WORKER = siblingModule(import.meta.url, 'hdf5-import.worker');

/** Generous for real models (HDF5 reads hundreds of MB/s), short enough that a hang is reported promptly. */
export function importDeadlineMs(byteLength: number): number {
  return 20_000 + byteLength / 10_000; // + 1 s per 10 MB
}

export function importHdf5Model(kind: Hdf5ImportRequest['kind'], bytes: Uint8Array, file: string, deadlineMs = importDeadlineMs(bytes.length)): Promise<Graph> {
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(WORKER, { kind, bytes, file } satisfies Hdf5ImportRequest);
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new ModelImportError(file, `reading the file did not finish within ${Math.round(deadlineMs / 1000)} s: it is corrupt (the HDF5 reader looped on it) or far larger than a model should be`));
    }, deadlineMs);
    const settle = () => clearTimeout(timer);
    worker.once('message', (reply: Hdf5ImportReply) => {
      settle();
      void worker.terminate();
      if ('graph' in reply) resolve(reply.graph);
      else reject(new ModelImportError(file, reply.error));
    });
    worker.once('error', (e) => {
      settle();
      reject(new ModelImportError(file, `cannot be imported (${e.message})`));
    });
    worker.once('exit', (code) => {
      settle();
      reject(new ModelImportError(file, `the importer stopped unexpectedly (exit code ${code})`));
    });
  });
}
