// The .keras / .h5 importers run in a worker with a deadline: a file that sends the HDF5 library into an endless
// loop (found by the importer fuzz test) must become a clear ModelImportError, not a hung app.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ModelImportError } from '../../../main/model/errors.ts';
import { ensureHdf5 } from '../../../main/model/hdf5.ts';
import { importHdf5Model } from '../../../main/model/importers/hdf5-import.ts';
import { importKerasH5Sync } from '../../../main/model/importers/keras-h5.ts';
import { loadModel } from '../../../main/model/load.ts';
import { FIXTURES } from '../../helpers/models.ts';
import { caseInput } from '../../fuzz/harness.ts';

const H5_SEEDS = ['h5/convnet.h5', 'h5/nested.h5'].map((f) => ({ name: `${FIXTURES}${f}`, bytes: new Uint8Array(readFileSync(`${FIXTURES}${f}`)) }));
/** A fuzz case on which h5wasm never returns (base seed 20240601, case 638). */
const HANGING_SEED = 20241239;

test('a corrupt .h5 that hangs the HDF5 library becomes a timeout error naming the file', async () => {
  const { bytes } = caseInput(H5_SEEDS, HANGING_SEED);
  const t0 = performance.now();
  await assert.rejects(importHdf5Model('h5', bytes, 'broken.h5', 3000), (e: unknown) => {
    assert.ok(e instanceof ModelImportError);
    assert.match(e.message, /^broken\.h5: reading the file did not finish within 3 s: it is corrupt/);
    return true;
  });
  assert.ok(performance.now() - t0 < 10_000, 'the deadline is kept');
});

test('valid .h5 and .keras files import through the worker exactly as in-process', async () => {
  await ensureHdf5();
  const file = `${FIXTURES}h5/convnet.h5`;
  const bytes = new Uint8Array(readFileSync(file));
  const viaWorker = await importHdf5Model('h5', bytes, file);
  const inProcess = importKerasH5Sync(bytes, file);
  assert.deepEqual(viaWorker.ops.map((o) => o.type), inProcess.ops.map((o) => o.type));
  assert.deepEqual(viaWorker.tensors.get(inProcess.ops[0]!.inputs[1]!)?.data, inProcess.tensors.get(inProcess.ops[0]!.inputs[1]!)?.data);
  const keras = await loadModel(`${FIXTURES}keras/convnet.keras`);
  assert.equal(keras.format, 'keras');
  assert.ok(keras.graph.ops.length > 0);
});

test('importer errors inside the worker keep their message', async () => {
  await assert.rejects(importHdf5Model('h5', new Uint8Array(readFileSync(`${FIXTURES}keras/convnet.keras`)), 'notes.h5'), (e: unknown) => {
    assert.ok(e instanceof ModelImportError);
    assert.match(e.message, /^notes\.h5: /);
    return true;
  });
});
