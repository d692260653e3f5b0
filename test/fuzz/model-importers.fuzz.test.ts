// Seeded mutation fuzzing of the Keras (.keras zip, legacy .h5) and TF.js model.json importers through helper C's
// harness: every mutated file must import or be rejected with a ModelImportError naming the file — never a crash,
// a foreign exception or a hang. Replay with EDGEWISE_FUZZ_SEED=<seed>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ensureHdf5 } from '../../main/model/hdf5.ts';
import { importKerasV3Sync } from '../../main/model/importers/keras-v3.ts';
import { importKerasH5Sync } from '../../main/model/importers/keras-h5.ts';
import { importModelJson } from '../../main/model/load.ts';
import { ModelImportError } from '../../main/model/errors.ts';
import { FIXTURES } from '../helpers/models.ts';
import { runFuzz, type FuzzTarget } from './harness.ts';

const BASE_SEED = Number(process.env.EDGEWISE_FUZZ_SEED ?? 20240601);
const seeds = (files: string[]) => files.map((f) => ({ name: `${FIXTURES}${f}`, bytes: new Uint8Array(readFileSync(`${FIXTURES}${f}`)) }));
const allowed = (e: unknown) => e instanceof ModelImportError && e.message.startsWith(e.file);

const TARGETS: FuzzTarget[] = [
  { name: 'Keras 3 .keras importer', seeds: seeds(['keras/convnet.keras', 'keras/nested.keras', 'keras/keras_extras.keras']),
    parse: (b, f) => importKerasV3Sync(b, f), allowed },
  { name: 'legacy Keras .h5 importer', seeds: seeds(['h5/convnet.h5', 'h5/nested.h5']), parse: (b, f) => importKerasH5Sync(b, f), allowed },
  // Names keep the real model.json path so weight shards resolve next to it.
  { name: 'TF.js model.json importer (layers and graph)', seeds: seeds(['tfjs/blocks/model.json', 'tfjs-graph/convnet/model.json']),
    parse: (b, f) => importModelJson(b, f), allowed },
];

for (const target of TARGETS) {
  test(`fuzz: ${target.name} (400 seeded mutations, base seed ${BASE_SEED})`, { timeout: 60_000 }, async () => {
    await ensureHdf5();
    const t0 = performance.now();
    const { failures, parsed, rejected, slowestMs } = runFuzz(target, { cases: 400, baseSeed: BASE_SEED, perCaseMs: 2000 });
    console.log(`${target.name}: ${parsed} parsed, ${rejected} rejected cleanly, slowest ${slowestMs.toFixed(1)} ms, total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const f of failures.slice(0, 5)) console.log(`seed ${f.seed} (${f.file}, ${f.mutation}): ${f.problem}`);
    assert.equal(failures.length, 0, `${failures.length} failing cases; first seed ${failures[0]?.seed}`);
    assert.ok(rejected > 40, 'the mutations should break many files');
  });
}
