import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTflite } from '../../main/tflite/reader.ts';
import { tfliteToGraph } from '../../main/tflite/to-ir.ts';
import { TfliteFormatError } from '../../main/tflite/model.ts';
import { ALL_FIXTURES, fixture } from '../unit/tflite/helpers.ts';
import { runFuzz, type FuzzTarget } from './harness.ts';

// Replay a run with EDGEWISE_FUZZ_SEED=<seed>; each failure prints its own case seed.
const BASE_SEED = Number(process.env.EDGEWISE_FUZZ_SEED ?? 20240601);

const tflite: FuzzTarget = {
  name: 'tflite reader + tfliteToGraph',
  seeds: ALL_FIXTURES.map((name) => ({ name, bytes: fixture(name) })),
  parse(bytes, fileName) {
    const model = readTflite(bytes, fileName);
    return tfliteToGraph(model, fileName);
  },
  allowed: (e) => e instanceof TfliteFormatError && e.message.startsWith(e.fileName + ': '),
};

// Other readers (Keras zip/h5, model.json) add a FuzzTarget here and one test line below.
const TARGETS: FuzzTarget[] = [tflite];

for (const target of TARGETS) {
  test(`fuzz: ${target.name} (2,000 seeded mutations, base seed ${BASE_SEED})`, { timeout: 60_000 }, () => {
    const t0 = performance.now();
    const { failures, parsed, rejected, slowestMs } = runFuzz(target, { cases: 2000, baseSeed: BASE_SEED, perCaseMs: 2000 });
    console.log(`${target.name}: ${parsed} parsed, ${rejected} rejected cleanly, slowest case ${slowestMs.toFixed(1)} ms, total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    for (const f of failures.slice(0, 5)) console.log(`seed ${f.seed} (${f.file}, ${f.mutation}): ${f.problem}`);
    assert.equal(failures.length, 0, `${failures.length} failing cases; first seed ${failures[0]?.seed}`);
    assert.ok(rejected > 100, 'the mutations should break most files');
  });
}
