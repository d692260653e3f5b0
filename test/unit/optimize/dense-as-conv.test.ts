import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../../main/model/load.ts';
import { optimizeForExport } from '../../../main/model/passes.ts';
import { exportTflite } from '../../../main/tflite/from-ir.ts';
import { TfliteInterpreter } from '../../../native-bridges/tflite-runtime.ts';
import { denseAsConv } from '../../../main/optimize/ptq/dense-as-conv.ts';

const MLP = fileURLToPath(new URL('../../fixtures/models/tfjs/mlp/model.json', import.meta.url));

async function outputs(bytes: Uint8Array, xs: Float32Array[]): Promise<number[]> {
  const it = await TfliteInterpreter.create(bytes);
  const out: number[] = [];
  for (const x of xs) {
    it.setInput(0, x);
    it.invoke();
    out.push(...it.output(0));
  }
  it.dispose();
  return out;
}

test('FULLY_CONNECTED → RESHAPE + 1×1 CONV_2D + RESHAPE computes the same function in the runtime, keeping op names', async () => {
  const g = optimizeForExport((await loadModel(MLP)).graph);
  const fcs = g.ops.filter((o) => o.type === 'FULLY_CONNECTED').map((o) => o.name);
  assert.ok(fcs.length >= 2);
  const { graph, rewritten } = denseAsConv(g);
  assert.deepEqual(rewritten, fcs);
  assert.ok(graph.ops.every((o) => o.type !== 'FULLY_CONNECTED'));
  for (const name of fcs) assert.equal(graph.ops.find((o) => o.name === name)?.type, 'CONV_2D');
  assert.deepEqual(graph.inputs, g.inputs);
  assert.deepEqual(graph.outputs, g.outputs);
  const per = g.tensors.get(g.inputs[0]!)!.shape[1]!;
  const xs = Array.from({ length: 5 }, (_, k) => Float32Array.from({ length: per }, (_, i) => Math.sin(k * 31 + i)));
  const a = await outputs(exportTflite(g), xs);
  const b = await outputs(exportTflite(graph), xs);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * Math.max(1, Math.abs(a[i]!)), `output ${i}: ${a[i]} vs ${b[i]}`);
});
