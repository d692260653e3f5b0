/**
 * Full-integer quantization of a small CNN fixture, checked in the REAL TFLite runtime and by reading the written
 * file back: spec conformance, op versions (tflite-format.md §9), I/O types, float fallback for ops without an
 * int8 kernel, and the Edge TPU error naming the op.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../../main/model/load.ts';
import { optimizeForExport } from '../../../main/model/passes.ts';
import type { Graph } from '../../../main/model/ir.ts';
import { run } from '../../../main/model/executor.ts';
import { exportTflite } from '../../../main/tflite/from-ir.ts';
import { readTflite } from '../../../main/tflite/reader.ts';
import { TfliteInterpreter } from '../../../native-bridges/tflite-runtime.ts';
import { initCompute } from '../../../native-bridges/tfjs-backend.ts';
import { quantizeInt8 } from '../../../main/optimize/ptq/int8.ts';
import { activationTensors } from '../../../main/optimize/ptq/calibrate.ts';
import { int8FileViolations } from '../../../main/optimize/ptq/verify.ts';
import { Calibrator, type Range } from '../../../main/optimize/quantize/calibration.ts';
import { quantizeAffine, dequantizeAffine } from '../../../main/optimize/quantize/math.ts';

const MODELS = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));

/** int8 op versions from tflite-format.md §9 (independent of main/tflite/op-version.ts). */
const INT8_VERSIONS: Record<string, number> = {
  CONV_2D: 3, DEPTHWISE_CONV_2D: 3, FULLY_CONNECTED: 4, ADD: 2, AVERAGE_POOL_2D: 2, MAX_POOL_2D: 2, SOFTMAX: 2,
  MEAN: 2, CONCATENATION: 2, PAD: 2, QUANTIZE: 2, RESHAPE: 1, LOGISTIC: 2, TANH: 2,
};

function rand(seed: number): () => number {
  let a = seed >>> 0;
  return () => ((a = (a * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function setup(name: string, n = 64) {
  await initCompute();
  const graph = optimizeForExport((await loadModel(`${MODELS}${name}`)).graph);
  const per = graph.tensors.get(graph.inputs[0]!)!.shape.slice(1).reduce((a, b) => a * b, 1);
  const r = rand(7);
  const x = Float32Array.from({ length: n * per }, r);
  const names = activationTensors(graph);
  const acts = await run(graph, { [graph.inputs[0]!]: x }, { outputs: names });
  const cal = new Calibrator();
  for (const t of names) cal.observe(t, acts[t]!.data);
  return { graph, x, per, n, ranges: cal.ranges({ kind: 'minmax' }), ref: acts[graph.outputs[0]!]!.data };
}

async function runAll(bytes: Uint8Array, x: Float32Array, per: number, n: number): Promise<Float32Array> {
  const m = readTflite(bytes);
  const sg = m.subgraphs[0]!;
  const inT = sg.tensors[sg.inputs[0]!]!;
  const outT = sg.tensors[sg.outputs[0]!]!;
  const it = await TfliteInterpreter.create(bytes);
  const outs: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = x.subarray(i * per, (i + 1) * per);
      const q = inT.quantization;
      it.setInput(0, inT.type === 'FLOAT32' ? s : quantizeAffine(s, { scale: q!.scale[0]!, zeroPoint: q!.zeroPoint[0]! }, inT.type === 'INT8' ? 'int8' : 'uint8'));
      it.invoke();
      const y = it.output(0);
      const oq = outT.quantization;
      outs.push(...(outT.type === 'FLOAT32' ? y : dequantizeAffine(y, { scale: oq!.scale[0]!, zeroPoint: oq!.zeroPoint[0]! })));
    }
  } finally {
    it.dispose();
  }
  return Float32Array.from(outs);
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function versions(bytes: Uint8Array): Map<string, number> {
  return new Map(readTflite(bytes).operatorCodes.map((c) => [c.builtin, c.version]));
}

test('int8 "blocks" model (conv, depthwise, add, pool, concat…): spec-clean file, §9 op versions, close to float in the runtime', async () => {
  const s = await setup('tfjs/blocks/model.json');
  const q = quantizeInt8(s.graph, { ranges: s.ranges, inputType: 'int8', outputType: 'int8' });
  const bytes = exportTflite(q.graph);
  const floatOps = new Set(q.decisions.filter((d) => !d.quantized).map((d) => d.op));
  assert.deepEqual(int8FileViolations(bytes, 'blocks.int8.tflite', floatOps), []);
  let checked = 0;
  for (const [op, v] of versions(bytes)) {
    if (INT8_VERSIONS[op] === undefined) continue;
    assert.equal(v, INT8_VERSIONS[op], `${op} version`);
    checked++;
  }
  assert.ok(checked >= 10, `checked ${checked} op versions`);
  const m = readTflite(bytes).subgraphs[0]!;
  assert.equal(m.tensors[m.inputs[0]!]!.type, 'INT8');
  assert.equal(m.tensors[m.outputs[0]!]!.type, 'INT8');
  const got = await runAll(bytes, s.x, s.per, s.n);
  const span = Math.max(...s.ref) - Math.min(...s.ref);
  assert.ok(maxAbs(got, s.ref) < 0.1 * span + 1e-6, `int8 output within 10 % of the output span (max |Δ| ${maxAbs(got, s.ref)}, span ${span})`);
});

test('convnet: ELU has no int8 kernel → it stays float between DEQUANTIZE/QUANTIZE, and the file still runs', async () => {
  const s = await setup('tfjs/convnet/model.json');
  const q = quantizeInt8(s.graph, { ranges: s.ranges });
  const floatOps = q.decisions.filter((d) => !d.quantized);
  assert.deepEqual(floatOps.map((d) => d.type), ['ELU']);
  assert.match(floatOps[0]!.reason!, /no int8 kernel for ELU/);
  const bytes = exportTflite(q.graph);
  assert.deepEqual(int8FileViolations(bytes, 'convnet.tflite', new Set(floatOps.map((d) => d.op))), []);
  const v = versions(bytes);
  assert.equal(v.get('CONV_2D'), 3);
  assert.equal(v.get('FULLY_CONNECTED'), 4);
  assert.equal(v.get('SOFTMAX'), 2);
  const got = await runAll(bytes, s.x, s.per, s.n);
  assert.ok(maxAbs(got, s.ref) < 0.02, `softmax outputs within 0.02 (got ${maxAbs(got, s.ref)})`);
});

test('integer-only (Edge TPU) mode names the op it cannot quantize and why', async () => {
  const s = await setup('tfjs/convnet/model.json', 8);
  assert.throws(
    () => quantizeInt8(s.graph, { ranges: s.ranges, integerOnly: true, inputType: 'uint8', outputType: 'uint8' }),
    /Integer-only \(Edge TPU\) quantization: op "[^"]+" \(ELU\) cannot be quantized: TFLite has no int8 kernel for ELU/,
  );
});

test('uint8 I/O: zero points shifted by 128, uint8↔int8 requantize inside, outputs match int8 I/O', async () => {
  const s = await setup('tfjs/blocks/model.json', 16);
  const u = exportTflite(quantizeInt8(s.graph, { ranges: s.ranges, inputType: 'uint8', outputType: 'uint8' }).graph);
  const i = exportTflite(quantizeInt8(s.graph, { ranges: s.ranges, inputType: 'int8', outputType: 'int8' }).graph);
  const sg = (b: Uint8Array) => readTflite(b).subgraphs[0]!;
  const uin = sg(u).tensors[sg(u).inputs[0]!]!;
  const iin = sg(i).tensors[sg(i).inputs[0]!]!;
  assert.equal(uin.type, 'UINT8');
  assert.equal(uin.quantization!.zeroPoint[0], iin.quantization!.zeroPoint[0]! + 128);
  assert.equal(uin.quantization!.scale[0], iin.quantization!.scale[0]);
  const a = await runAll(u, s.x, s.per, s.n);
  const b = await runAll(i, s.x, s.per, s.n);
  assert.ok(maxAbs(a, b) <= 1e-6 + sg(i).tensors[sg(i).outputs[0]!]!.quantization!.scale[0]!, 'uint8 and int8 I/O agree to one step');
});

test('missing calibration range is a clear error naming the tensor', async () => {
  const s = await setup('tfjs/convnet/model.json', 4);
  const partial = new Map<string, Range>([...s.ranges].slice(0, 1));
  assert.throws(() => quantizeInt8(s.graph as Graph, { ranges: partial }), /No calibration range for tensor "[^"]+"/);
});
