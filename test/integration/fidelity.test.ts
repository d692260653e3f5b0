// End-to-end float fidelity: import → optimizeForExport → exportTflite → the real TFLite runtime, compared with the
// SOURCE model run in tfjs (and the IR executor with it), on 20 inputs per model, for every generated fixture in every
// format (the MNIST sample model is in fidelity-mnist.test.ts). Bound: max |Δ| ≤ 1e-4 · max|reference| + 1e-5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initCompute } from '../../native-bridges/tfjs-backend.ts';
import { loadModel } from '../../main/model/load.ts';
import {
  FIXTURES, checkFidelity, fixtureManifest, kerasExtrasReference, loadGraphReference, loadLayersReference, predict,
} from '../helpers/models.ts';
import type { FidelityCase } from '../helpers/models.ts';

const N = 20;

function cases(): FidelityCase[] {
  const m = fixtureManifest();
  const layers = (p: string) => async (x: Float32Array, s: number[]) => predict(await loadLayersReference(`${FIXTURES}${p}`), x, s);
  return [
    ...m.layers.map((e) => ({ path: e.path, inputShape: e.inputShape, reference: layers(e.path) })),
    ...[...m.keras, ...m.h5].map((e) => ({
      path: e.path,
      inputShape: e.inputShape,
      reference: async (x: Float32Array, s: number[]) => {
        if (e.name === 'keras_extras') return kerasExtrasReference((await loadModel(`${FIXTURES}${e.path}`)).graph, x, N);
        // Keras bilinear upsampling uses half-pixel centres and tfjs does not, so the tfjs twin differs by design.
        if (e.name === 'upsample_bilinear') return undefined;
        return layers(e.twin!)(x, s);
      },
    })),
    ...m.graph.map((e) => ({
      path: e.path,
      inputShape: e.inputShape,
      reference: async (x: Float32Array, s: number[]) => predict(await loadGraphReference(`${FIXTURES}${e.path}`), x, s),
    })),
  ];
}

test('generated fixtures (tfjs layers, uint8/float16 tfjs, .keras, .h5, graph model) survive export to TFLite', async () => {
  await initCompute();
  const all = cases();
  assert.ok(all.length >= 19);
  for (const c of all) {
    const r = await checkFidelity({ ...c, path: `${FIXTURES}${c.path}` }, N);
    console.log(`${c.path}: executor ${r.executor.toExponential(1)}, TFLite ${r.tflite.toExponential(1)} (tolerance ${r.tol.toExponential(1)})`);
    assert.ok(r.executor <= r.tol, `${c.path}: executor vs source max |Δ| ${r.executor} > ${r.tol}`);
    assert.ok(r.tflite <= r.tol, `${c.path}: TFLite vs source max |Δ| ${r.tflite} > ${r.tol}`);
  }
});
