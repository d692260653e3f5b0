/**
 * Worker entry for the HDF5-based importers (.keras, .h5): the HDF5 C library (h5wasm) can loop forever on a
 * corrupt file, and synchronous WebAssembly cannot be interrupted — but a worker can be terminated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ensureHdf5 } from '../hdf5.ts';
import { ModelImportError } from '../errors.ts';
import { importKerasH5Sync } from './keras-h5.ts';
import { importKerasV3Sync } from './keras-v3.ts';
import type { Hdf5ImportRequest, Hdf5ImportReply } from './hdf5-import.ts';

const { kind, bytes, file } = workerData as Hdf5ImportRequest;
let reply: Hdf5ImportReply;
try {
  await ensureHdf5();
  reply = { graph: kind === 'keras' ? importKerasV3Sync(bytes, file) : importKerasH5Sync(bytes, file) };
} catch (e) {
  reply = { error: e instanceof ModelImportError ? e.problem : `cannot be imported (${e instanceof Error ? e.message : String(e)})` };
}
parentPort!.postMessage(reply);
