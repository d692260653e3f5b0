// Real-model fidelity: nsfwjs MobileNetV2 (ImageNet-pretrained Keras backbone shipped as a TF.js layers model with
// uint8 weights, 162 layers) imported, BN-folded, exported and run in the real TFLite runtime on 20 inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initCompute } from '../../native-bridges/tfjs-backend.ts';
import { checkFidelity, loadLayersReference, predict } from '../helpers/models.ts';
import { unwrapNsfwjsMobilenetV2 } from '../helpers/nsfwjs.ts';

test('nsfwjs MobileNetV2: executor and TFLite export match tfjs on 20 images', async () => {
  await initCompute();
  const path = unwrapNsfwjsMobilenetV2();
  const reference = await loadLayersReference(path);
  const r = await checkFidelity({
    path,
    inputShape: [null, 224, 224, 3],
    input: (x) => x.map((v) => (v + 1) / 2), // the model expects RGB / 255
    reference: (x, s) => predict(reference, x, s),
  }, 20);
  reference.dispose();
  console.log(`MobileNetV2: executor ${r.executor.toExponential(1)}, TFLite ${r.tflite.toExponential(1)} (tolerance ${r.tol.toExponential(1)})`);
  assert.ok(r.executor <= r.tol, `executor vs tfjs max |Δ| ${r.executor} > ${r.tol}`);
  assert.ok(r.tflite <= r.tol, `TFLite vs tfjs max |Δ| ${r.tflite} > ${r.tol}`);
});
