// Every generated fixture imports, and the IR executor reproduces the source model run in tfjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initCompute } from '../../../native-bridges/tfjs-backend.ts';
import { loadModel } from '../../../main/model/load.ts';
import { Executor } from '../../../main/model/executor.ts';
import { validateGraph } from '../../../main/model/ir.ts';
import type { Graph } from '../../../main/model/ir.ts';
import {
  FIXTURES, fidelityTolerance, fixtureManifest, kerasExtrasReference, loadGraphReference, loadLayersReference, maxAbsDiff, predict,
  seededInput,
} from '../../helpers/models.ts';

const BATCH = 4;

async function execute(graph: Graph, x: Float32Array): Promise<Float32Array> {
  const ex = new Executor(graph);
  try {
    return (await ex.runData({ [graph.inputs[0]]: x }))[graph.outputs[0]].data;
  } finally {
    ex.dispose();
  }
}

test('every fixture imports and the executor matches the source model', async () => {
  await initCompute();
  const m = fixtureManifest();
  const cases = [
    ...m.layers.map((e) => ({ ...e, kind: 'tfjs-layers', ref: e.path })),
    ...m.keras.map((e) => ({ ...e, kind: 'keras', ref: e.twin })),
    ...m.h5.map((e) => ({ ...e, kind: 'h5', ref: e.twin })),
    ...m.graph.map((e) => ({ ...e, kind: 'tfjs-graph', ref: e.path })),
  ];
  assert.ok(cases.length >= 19);
  for (const c of cases) {
    const { graph, format } = await loadModel(`${FIXTURES}${c.path}`);
    assert.equal(format, c.kind, c.path);
    validateGraph(graph);
    const shape = [BATCH, ...(c.inputShape.slice(1) as number[])];
    const x = seededInput(c.inputShape, BATCH, 7);
    const got = await execute(graph, x);
    let ref: Float32Array;
    if (c.name === 'keras_extras') ref = kerasExtrasReference(graph, x, BATCH);
    else if (c.kind === 'tfjs-graph') ref = await predict(await loadGraphReference(`${FIXTURES}${c.ref}`), x, shape);
    else {
      // Keras (TF2) bilinear upsampling uses half-pixel centres, tfjs does not: the tfjs twin is not a reference there.
      if (c.name === 'upsample_bilinear' && c.kind !== 'tfjs-layers') {
        const op = graph.ops.find((o) => o.type === 'RESIZE_BILINEAR')!;
        assert.equal(op.attrs.halfPixelCenters, true);
        continue;
      }
      ref = await predict(await loadLayersReference(`${FIXTURES}${c.ref}`), x, shape);
    }
    const diff = maxAbsDiff(got, ref);
    assert.ok(diff <= fidelityTolerance(ref), `${c.path}: executor vs source max |Δ| ${diff}`);
  }
});

test('.keras, .h5 and tfjs imports of the same model give the same graph structure', async () => {
  const a = (await loadModel(`${FIXTURES}tfjs/nested/model.json`)).graph;
  const b = (await loadModel(`${FIXTURES}keras/nested.keras`)).graph;
  const c = (await loadModel(`${FIXTURES}h5/nested.h5`)).graph;
  const sig = (g: Graph) => g.ops.map((o) => `${o.type}:${o.name}`).join(' ');
  assert.equal(sig(b), sig(a));
  assert.equal(sig(c), sig(a));
  assert.ok(a.ops.some((o) => o.name === 'inner_seq/ic'), 'nested layers keep their path in op names');
});

test('converter-quantized tfjs weights are dequantized and reported as a warning', async () => {
  const q = await loadModel(`${FIXTURES}tfjs/convnet-uint8/model.json`);
  assert.equal(q.graph.metadata.weightQuantization, 'uint8');
  assert.match(q.warnings.join('\n'), /uint8-quantized by the TF\.js converter/);
  assert.deepEqual((await loadModel(`${FIXTURES}tfjs/convnet/model.json`)).warnings, []);
});

test('.tflite files load through the TFLite reader and run in the executor (round trip of an exported fixture)', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { optimizeForExport } = await import('../../../main/model/passes.ts');
  const { exportTflite } = await import('../../../main/tflite/from-ir.ts');
  await initCompute();
  const src = (await loadModel(`${FIXTURES}tfjs/blocks/model.json`)).graph;
  const file = `${mkdtempSync(`${tmpdir()}/edgewise-rt-`)}/blocks.tflite`;
  writeFileSync(file, exportTflite(optimizeForExport(src)));
  const { graph, format } = await loadModel(file);
  assert.equal(format, 'tflite');
  const x = seededInput([null, 8, 8, 4], 1, 3);
  const a = await execute(src, x);
  const b = await execute(graph, x);
  assert.ok(maxAbsDiff(a, b) < 1e-5, `round trip changed outputs by ${maxAbsDiff(a, b)}`);
  // A real quantized model from the shared fixtures imports too (its ops keep their quantization).
  const coral = new URL('../../../../shared/fixtures/coral/mobilenet_v1_0.25_128_quant.tflite', import.meta.url).pathname;
  const q = await loadModel(coral);
  assert.equal(q.format, 'tflite');
  assert.ok(q.graph.ops.some((o) => o.type === 'DEPTHWISE_CONV_2D'));
});

test('Keras 3 weight paths are positional by class name, as keras/src/saving/saving_lib.py writes them', async () => {
  const { kerasV3WeightPaths, kerasSnakeCase } = await import('../../../main/model/importers/keras-v3.ts');
  assert.deepEqual(['Conv2D', 'BatchNormalization', 'ReLU', 'PReLU', 'DepthwiseConv2D', 'Conv2DTranspose', 'GlobalAveragePooling2D', 'UpSampling2D']
    .map(kerasSnakeCase), ['conv2d', 'batch_normalization', 're_lu', 'p_re_lu', 'depthwise_conv2d', 'conv2d_transpose', 'global_average_pooling2d', 'up_sampling2d']);
  const { unzipSync } = await import('fflate');
  const { readFileSync } = await import('node:fs');
  const cfg = (name: string) => JSON.parse(new TextDecoder().decode(unzipSync(readFileSync(`${FIXTURES}keras/${name}.keras`))['config.json']));
  const conv = kerasV3WeightPaths(cfg('convnet'));
  assert.equal(conv.get('c1'), 'layers/conv2d');
  assert.equal(conv.get('bn2'), 'layers/batch_normalization_1');
  assert.equal(conv.get('c2'), 'layers/conv2d_1');
  assert.equal(conv.get('relu6_1'), 'layers/re_lu');
  const nested = kerasV3WeightPaths(cfg('nested'));
  assert.equal(nested.get('inner_seq/ic'), 'layers/sequential/layers/conv2d');
  assert.equal(nested.get('inner_fn/idense'), 'layers/functional/layers/dense');
  assert.equal(nested.get('nout'), 'layers/dense');
});
