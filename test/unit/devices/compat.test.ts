import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readTflite } from '../../../main/tflite/reader.ts';
import { actualMapping, formatCompatReport, predictEdgeTpu, STATUS } from '../../../main/devices/compat.ts';

const coral = (f: string) => readTflite(new Uint8Array(readFileSync(new URL(`../../../../shared/fixtures/coral/${f}`, import.meta.url))), f);

for (const name of ['mobilenet_v1_0.25_128_quant', 'split_concat', 'keras_lstm_mnist_ptq']) {
  test(`prediction agrees with what edgetpu_compiler produced for ${name}`, () => {
    const original = coral(`${name}.tflite`);
    const actual = actualMapping(original, coral(`${name}_edgetpu.tflite`));
    const predicted = predictEdgeTpu(original);
    assert.equal(predicted.ops.length, original.subgraphs[0]!.operators.length);
    assert.deepEqual(predicted.ops.map((o) => o.mapped), actual, formatCompatReport(predicted));
  });
}

test('the first unsupported op cuts the rest of the graph to the CPU', () => {
  const m = coral('mobilenet_v1_0.25_128_quant.tflite');
  m.operatorCodes.push({ builtin: 'FLOOR_MOD', builtinCode: 95, version: 1 });
  m.subgraphs[0]!.operators[5]!.opcodeIndex = m.operatorCodes.length - 1;
  const r = predictEdgeTpu(m);
  assert.deepEqual(r.ops.slice(0, 5).map((o) => o.mapped), [true, true, true, true, true]);
  assert.equal(r.cutAt, 5);
  assert.match(r.ops[5]!.reason, /FLOOR_MOD/);
  assert.ok(r.ops.slice(6).every((o) => !o.mapped && o.reason.startsWith(STATUS.otherSubgraph)));
  assert.equal(r.mappedCount, 5);
});

test('float tensors and >3 non-1 dimensions are not mapped, with the reason', () => {
  const m = coral('split_concat.tflite');
  const sg = m.subgraphs[0]!;
  sg.tensors[sg.inputs[0]!]!.type = 'FLOAT32';
  let r = predictEdgeTpu(m);
  assert.equal(r.ops[0]!.mapped, false);
  assert.match(r.ops[0]!.reason, /unsupported data type.*FLOAT32/);
  assert.ok(r.notes.some((n) => /float inputs/.test(n)));
  const m2 = coral('split_concat.tflite');
  const t = m2.subgraphs[0]!.tensors[m2.subgraphs[0]!.inputs[0]!]!;
  t.shape = [2, 8, 8, 3];
  r = predictEdgeTpu(m2);
  assert.match(r.ops[0]!.reason, /unsupported rank/);
});

test('a custom CPU op is reported as not supported', () => {
  const r = predictEdgeTpu(coral('model_invoking_error.tflite'));
  assert.deepEqual(r.ops.map((o) => [o.op, o.mapped]), [['fake-op-double', false]]);
});
