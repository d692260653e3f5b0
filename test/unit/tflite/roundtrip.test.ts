import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTflite } from '../../../main/tflite/reader.ts';
import { writeTflite } from '../../../main/tflite/writer.ts';
import { tfliteToGraph } from '../../../main/tflite/to-ir.ts';
import { exportTflite } from '../../../main/tflite/from-ir.ts';
import type { TfliteModel } from '../../../main/tflite/model.ts';
import { CUSTOM_OP_FIXTURES, RUNNABLE_FIXTURES, fixture, randomInputSets, runModel } from './helpers.ts';

/** The model with byte arrays as plain arrays, so deepEqual compares content, not views. */
function plain(m: TfliteModel): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? { bytes: Buffer.from(v).toString('base64') } : v)));
}

for (const name of RUNNABLE_FIXTURES) {
  test(`read → write of ${name} runs and gives identical outputs on 5 random inputs`, async () => {
    const original = fixture(name);
    const model = readTflite(original, name);
    const t0 = performance.now();
    const rewritten = writeTflite(model);
    const ms = performance.now() - t0;
    if (name.startsWith('mobilenet')) console.log(`writeTflite(${name}): ${ms.toFixed(2)} ms, ${original.length} → ${rewritten.length} B`);
    assert.deepEqual(plain(readTflite(rewritten, name)), plain(model));
    const inputs = await randomInputSets(original, 5, 1234);
    assert.deepEqual(await runModel(rewritten, inputs), await runModel(original, inputs));
  });

  test(`TFLite → IR → TFLite of ${name} gives identical outputs (quantized export path)`, async () => {
    const original = fixture(name);
    const exported = exportTflite(tfliteToGraph(readTflite(original, name), name));
    const inputs = await randomInputSets(original, 5, 99);
    assert.deepEqual(await runModel(exported, inputs), await runModel(original, inputs));
  });
}

for (const name of CUSTOM_OP_FIXTURES) {
  test(`read → write of ${name} parses back equal with byte-identical custom options`, () => {
    const model = readTflite(fixture(name), name);
    const back = readTflite(writeTflite(model), name);
    if (model.buffers.length === 0) model.buffers.push(new Uint8Array(0)); // the writer adds the sentinel buffer 0
    assert.deepEqual(plain(back), plain(model));
    const custom = (m: TfliteModel) => m.subgraphs[0]!.operators.filter((o) => o.customOptions).map((o) => o.customOptions!);
    assert.ok(custom(model).length > 0);
    custom(model).forEach((bytes, i) => assert.ok(Buffer.from(bytes).equals(custom(back)[i]!), `custom options ${i}`));
    // Through the IR too: CUSTOM ops keep their code and options.
    const graph = tfliteToGraph(model, name);
    const viaIr = readTflite(exportTflite(graph), name);
    custom(model).forEach((bytes, i) => assert.ok(Buffer.from(bytes).equals(custom(viaIr)[i]!), `custom options ${i} via IR`));
    assert.equal(viaIr.operatorCodes.find((c) => c.builtin === 'CUSTOM')?.customCode, model.operatorCodes.find((c) => c.builtin === 'CUSTOM')?.customCode);
  });
}

test('written buffer payloads start on 16-byte boundaries', () => {
  const model = readTflite(fixture('mobilenet_v1_0.25_128_quant.tflite'));
  const out = writeTflite(model);
  const back = readTflite(out);
  let checked = 0;
  for (const data of back.buffers) {
    if (data.length === 0) continue;
    assert.equal((data.byteOffset - out.byteOffset) % 16, 0);
    checked++;
  }
  assert.ok(checked > 50);
});

test('the runtime refuses custom ops it lacks with an error naming the op', async () => {
  await assert.rejects(runModel(fixture('model_invoking_error.tflite'), []), /custom op "fake-op-double"/);
  await assert.rejects(runModel(fixture('split_concat_edgetpu.tflite'), []), /custom op "edgetpu-custom-op"/);
});
