/** float16 and dynamic-range rewrites: layouts as the converter writes them, op versions, and outputs in the runtime. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../../main/model/load.ts';
import { optimizeForExport } from '../../../main/model/passes.ts';
import { run } from '../../../main/model/executor.ts';
import { exportTflite } from '../../../main/tflite/from-ir.ts';
import { readTflite } from '../../../main/tflite/reader.ts';
import { TfliteInterpreter } from '../../../native-bridges/tflite-runtime.ts';
import { initCompute } from '../../../native-bridges/tfjs-backend.ts';
import { quantizeFloat16 } from '../../../main/optimize/ptq/float16.ts';
import { quantizeDynamicRangeGraph } from '../../../main/optimize/ptq/dynamic-range.ts';

const MODELS = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));

async function load(name: string) {
  await initCompute();
  return optimizeForExport((await loadModel(`${MODELS}${name}`)).graph);
}

const THRESHOLD = 100;

async function maxDiffVsFloat(graph: Awaited<ReturnType<typeof load>>, bytes: Uint8Array, n = 8): Promise<number> {
  const per = graph.tensors.get(graph.inputs[0]!)!.shape.slice(1).reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n * per }, (_, i) => ((i * 7919) % 1000) / 1000);
  const ref = (await run(graph, { [graph.inputs[0]!]: x }))[graph.outputs[0]!]!.data;
  const it = await TfliteInterpreter.create(bytes);
  let m = 0;
  const w = ref.length / n;
  for (let i = 0; i < n; i++) {
    it.setInput(0, x.subarray(i * per, (i + 1) * per));
    it.invoke();
    const y = it.output(0);
    for (let k = 0; k < w; k++) m = Math.max(m, Math.abs(y[k]! - ref[i * w + k]!));
  }
  it.dispose();
  return m;
}

test('float16: every float constant becomes FLOAT16 + one DEQUANTIZE (v3); size ~halves; outputs match', async () => {
  const g = await load('tfjs/convnet/model.json');
  const f32 = exportTflite(g);
  const f16 = exportTflite(quantizeFloat16(g));
  const m = readTflite(f16);
  const sg = m.subgraphs[0]!;
  const withData = sg.tensors.filter((t) => m.buffers[t.buffer]!.length > 0);
  assert.ok(withData.length > 0);
  assert.deepEqual(withData.filter((t) => t.type === 'FLOAT32').map((t) => t.name), [], 'no float32 constant left');
  const deq = m.operatorCodes.find((c) => c.builtin === 'DEQUANTIZE');
  assert.equal(deq?.version, 3);
  const deqOps = sg.operators.filter((o) => m.operatorCodes[o.opcodeIndex]!.builtin === 'DEQUANTIZE');
  assert.equal(deqOps.length, withData.filter((t) => t.type === 'FLOAT16').length, 'one DEQUANTIZE per FLOAT16 constant');
  const constBytes = (b: Uint8Array) => readTflite(b).buffers.reduce((n, x) => n + x.length, 0);
  assert.ok(constBytes(f16) <= 0.51 * constBytes(f32) + 64, `constant bytes ${constBytes(f16)} vs ${constBytes(f32)}`);
  assert.ok((await maxDiffVsFloat(g, f16)) < 2e-3);
});

test('dynamic range: tensors below the 1024-element threshold stay float', async () => {
  const g = await load('tfjs/convnet/model.json');
  const q = quantizeDynamicRangeGraph(g);
  assert.ok([...q.tensors.values()].every((t) => t.dtype !== 'int8'), 'the fixture\'s weights are all < 1024 elements');
});

test('dynamic range (threshold lowered to reach the small fixture): int8 weights (conv per-channel dim 0, FC per-tensor), hybrid versions', async () => {
  const g = await load('tfjs/convnet/model.json');
  const q = quantizeDynamicRangeGraph(g, THRESHOLD);
  const bytes = exportTflite(q);
  const m = readTflite(bytes);
  const sg = m.subgraphs[0]!;
  for (const op of sg.operators) {
    const code = m.operatorCodes[op.opcodeIndex]!;
    if (!['CONV_2D', 'FULLY_CONNECTED', 'DEPTHWISE_CONV_2D'].includes(code.builtin)) continue;
    const w = sg.tensors[op.inputs[1]!]!;
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (n < THRESHOLD) {
      assert.equal(w.type, 'FLOAT32', `${w.name} (${n} elements) stays float`);
      continue;
    }
    assert.equal(w.type, 'INT8', `${w.name} (${n} elements) is int8`);
    assert.ok(w.quantization!.zeroPoint.every((z) => z === 0));
    if (code.builtin === 'CONV_2D') {
      assert.equal(w.quantization!.scale.length, w.shape[0]);
      assert.equal(code.version, 5);
    }
    if (code.builtin === 'FULLY_CONNECTED') {
      assert.equal(w.quantization!.scale.length, 1);
      assert.equal(code.version, 9);
      assert.equal(op.builtinOptions?.asymmetricQuantizeInputs, true);
    }
    if (code.builtin === 'DEPTHWISE_CONV_2D') assert.equal(code.version, 6);
    assert.equal(sg.tensors[op.inputs[0]!]!.type, 'FLOAT32', 'activations stay float');
  }
  assert.ok(sg.tensors.some((t) => t.type === 'INT8'), 'something was quantized');
  assert.ok((await maxDiffVsFloat(g, bytes)) < 0.05);
});
