// Seeded mutation fuzzing of the Keras (.keras zip, legacy .h5) and TF.js model.json importers through the shared
// harness: every mutated file must import or be rejected with a ModelImportError naming the file — never a crash
// or a foreign exception. The HDF5 library (h5wasm) loops forever on a few corrupt files; the app bounds that with a
// worker deadline (main/model/importers/hdf5-import.ts, tested in test/unit/model/hdf5-import.test.ts), so here the
// HDF5 targets run in a watchdog worker: a case that never returns is counted as bounded, and the run goes on.
// Replay with EDGEWISE_FUZZ_SEED=<seed>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { importModelJson } from '../../main/model/load.ts';
import { ModelImportError } from '../../main/model/errors.ts';
import { startModuleWorker } from '../../main/workers.ts';
import { FIXTURES } from '../helpers/models.ts';
import { runFuzz, type FuzzTarget } from './harness.ts';
import type { Hdf5FuzzJob, Hdf5FuzzReport } from './hdf5-fuzz.worker.ts';

const BASE_SEED = Number(process.env.EDGEWISE_FUZZ_SEED ?? 20240601);
const CASES = 2000;
/** A case that has not returned after this long is a hang (a normal case takes milliseconds). */
const HANG_MS = 3000;
const seeds = (files: string[]) => files.map((f) => ({ name: `${FIXTURES}${f}`, bytes: new Uint8Array(readFileSync(`${FIXTURES}${f}`)) }));

test(`fuzz: TF.js model.json importer, layers and graph (${CASES} seeded mutations, base seed ${BASE_SEED})`, { timeout: 120_000 }, () => {
  // Names keep the real model.json path so weight shards resolve next to it.
  const target: FuzzTarget = {
    name: 'TF.js model.json importer',
    seeds: seeds(['tfjs/blocks/model.json', 'tfjs-graph/convnet/model.json']),
    parse: (b, f) => importModelJson(b, f),
    allowed: (e) => e instanceof ModelImportError && e.message.startsWith(e.file),
  };
  const { failures, parsed, rejected, slowestMs } = runFuzz(target, { cases: CASES, baseSeed: BASE_SEED, perCaseMs: 2000 });
  console.log(`${target.name}: ${parsed} parsed, ${rejected} rejected cleanly, slowest ${slowestMs.toFixed(1)} ms`);
  for (const f of failures.slice(0, 5)) console.log(`seed ${f.seed} (${f.file}, ${f.mutation}): ${f.problem}`);
  assert.equal(failures.length, 0, `${failures.length} failing cases; first seed ${failures[0]?.seed}`);
  assert.ok(rejected > 40, 'the mutations should break many files');
});

/** Runs the cases in a worker; restarts it after a hang, skipping the hung case. */
async function fuzzHdf5(kind: Hdf5FuzzJob['kind'], files: string[]) {
  const counts = { parsed: 0, rejected: 0, hung: [] as number[], failures: [] as string[] };
  let next = 0;
  while (next < CASES) {
    const job: Hdf5FuzzJob = { kind, seeds: seeds(files), baseSeed: BASE_SEED, from: next, to: CASES };
    const worker = startModuleWorker(new URL('./hdf5-fuzz.worker.ts', import.meta.url), job);
    next = await new Promise<number>((resolve, reject) => {
      let expected = job.from;
      let watchdog = setTimeout(onHang, HANG_MS * 4); // the first case also pays for loading h5wasm
      function onHang() {
        counts.hung.push((BASE_SEED + expected) >>> 0);
        void worker.terminate().then(() => resolve(expected + 1));
      }
      worker.on('message', (r: Hdf5FuzzReport) => {
        clearTimeout(watchdog);
        if (r.outcome === 'failure') counts.failures.push(`seed ${(BASE_SEED + r.index) >>> 0}: ${r.problem}`);
        else counts[r.outcome]++;
        expected = r.index + 1;
        if (expected === CASES) void worker.terminate().then(() => resolve(CASES));
        else watchdog = setTimeout(onHang, HANG_MS);
      });
      worker.on('error', (e) => {
        clearTimeout(watchdog);
        reject(e);
      });
    });
  }
  return counts;
}

for (const [kind, name, files] of [
  ['keras', 'Keras 3 .keras importer', ['keras/convnet.keras', 'keras/nested.keras', 'keras/keras_extras.keras']],
  ['h5', 'legacy Keras .h5 importer', ['h5/convnet.h5', 'h5/nested.h5']],
] as const) {
  test(`fuzz: ${name} (${CASES} seeded mutations, base seed ${BASE_SEED})`, { timeout: 300_000 }, async () => {
    const r = await fuzzHdf5(kind, [...files]);
    console.log(`${name}: ${r.parsed} parsed, ${r.rejected} rejected cleanly, ${r.hung.length} hung in h5wasm (bounded by the import deadline)${r.hung.length ? `: seeds ${r.hung.join(', ')}` : ''}`);
    for (const f of r.failures.slice(0, 5)) console.log(f);
    assert.equal(r.failures.length, 0, `${r.failures.length} cases threw something other than ModelImportError`);
    assert.ok(r.hung.length <= CASES / 100, `${r.hung.length} hangs: more than a rare h5wasm corner case`);
    assert.ok(r.rejected > 40, 'the mutations should break many files');
  });
}
