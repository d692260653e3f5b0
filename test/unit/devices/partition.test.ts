/**
 * Partitioning compiled models into CPU and Edge TPU segments: segment order and boundaries, the standalone CPU
 * models (constants, quantization, op versions, min_runtime_version) run in the real TFLite runtime, and bad
 * graphs refused with the file and op/tensor named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mixedModels, CORAL_FIXTURES } from '../../emulator/mixed-models.ts';
import { readEdgeTpuModel } from '../../../main/devices/package.ts';
import { CpuSegmentRunner, describePartition, partitionModel, runtimeBytes, type CpuSegment } from '../../../main/devices/partition.ts';
import { readTflite } from '../../../main/tflite/reader.ts';
import { writeTflite } from '../../../main/tflite/writer.ts';
import { metadataString } from '../../../main/tflite/model.ts';

const [around, twoOps] = mixedModels();
const fixture = (n: string) => new Uint8Array(readFileSync(new URL(n, CORAL_FIXTURES)));

test('fully mapped fixtures are one Edge TPU segment with the graph inputs and outputs', () => {
  for (const name of ['mobilenet_v1_0.25_128_quant', 'split_concat', 'keras_lstm_mnist_ptq']) {
    const p = partitionModel(readEdgeTpuModel(fixture(`${name}_edgetpu.tflite`), name));
    assert.equal(p.segments.length, 1, name);
    assert.equal(p.segments[0]!.kind, 'tpu');
    assert.equal(describePartition(p), 'Edge TPU');
  }
});

test('CPU ops before, between and after Edge TPU ops become segments in operator order with their boundary tensors', () => {
  const p = partitionModel(readEdgeTpuModel(twoOps!.compiled, 'two.tflite'));
  assert.equal(describePartition(p), 'CPU: QUANTIZE → Edge TPU → CPU: SLICE, RESHAPE → Edge TPU → CPU: CONCATENATION, DEQUANTIZE');
  assert.deepEqual(p.inputs, ['image', 'inputs/rnn1', 'inputs/rnn2']);
  assert.deepEqual(p.outputs, ['joined_float', 'outputs/rnn2']);
  assert.deepEqual(p.segments.map((s) => [s.kind, s.inputs, s.outputs]), [
    ['cpu', ['image'], ['input']],
    ['tpu', ['input'], ['MobilenetV1/Predictions/Reshape_1']],
    ['cpu', ['MobilenetV1/Predictions/Reshape_1'], ['grid']],
    ['tpu', ['grid', 'inputs/rnn1', 'inputs/rnn2'], ['concat/split0', 'outputs/rnn1', 'concat/split2', 'concat/split4', 'outputs/rnn2']],
    ['cpu', ['concat/split0', 'concat/split2', 'concat/split4'], ['joined_float']],
  ]);
});

test('a CPU segment is a valid standalone model: constants copied, quantization and op versions kept, min_runtime_version set', () => {
  const src = readTflite(around!.compiled, 'around.tflite');
  const p = partitionModel(readEdgeTpuModel(around!.compiled, 'around.tflite'));
  const after = p.segments[2] as CpuSegment;
  assert.deepEqual(after.ops, ['DEQUANTIZE', 'MUL']);
  const m = readTflite(after.tflite, 'segment.tflite');
  const sg = m.subgraphs[0]!;
  assert.deepEqual(m.operatorCodes.map((c) => [c.builtin, c.version]), [['DEQUANTIZE', 1], ['MUL', 1]]);
  assert.deepEqual(sg.inputs.map((i) => sg.tensors[i]!.name), ['MobilenetV1/Predictions/Reshape_1']);
  assert.deepEqual(sg.outputs.map((i) => sg.tensors[i]!.name), ['percent']);
  const scores = sg.tensors[sg.inputs[0]!]!;
  const orig = src.subgraphs[0]!.tensors.find((t) => t.name === scores.name)!;
  assert.deepEqual(scores.quantization, orig.quantization);
  const hundred = sg.tensors.find((t) => t.name === 'hundred')!;
  assert.deepEqual([...new Float32Array(m.buffers[hundred.buffer]!.slice().buffer)], [100]);
  assert.equal(sg.tensors.length, 4, 'only the tensors the segment uses');
  assert.match(metadataString(m, 'min_runtime_version') ?? '', /^\d+\.\d+\.\d+$/);
});

test('CPU segments run in the TFLite runtime: QUANTIZE before the Edge TPU op gives the uint8 the op expects', async () => {
  const p = partitionModel(readEdgeTpuModel(around!.compiled, 'around.tflite'));
  const runner = await CpuSegmentRunner.create(p.segments[0] as CpuSegment, 'around.tflite');
  try {
    const x = new Float32Array(128 * 128 * 3).map((_, i) => ((i % 256) - 128) / 128);
    const values = new Map([['image', runtimeBytes(x)]]);
    runner.run(values, 'around.tflite');
    const q = values.get('input')!;
    assert.equal(q.length, x.length);
    // scale 1/128, zero point 128: x = (i%256 - 128)/128 → i % 256.
    for (let i = 0; i < q.length; i += 97) assert.equal(q[i], i % 256, `element ${i}`);
    assert.throws(() => runner.run(new Map(), 'around.tflite'), /around\.tflite: the CPU part \(1 op: QUANTIZE\) needs tensor 'image'/);
  } finally {
    runner.dispose();
  }
});

/** Reads the mixed model, lets `edit` change it, writes it back and partitions it. */
function partitionEdited(edit: (m: ReturnType<typeof readTflite>) => void) {
  const m = readTflite(twoOps!.compiled, 'edited_edgetpu.tflite');
  edit(m);
  return () => partitionModel(readEdgeTpuModel(writeTflite(m), 'edited_edgetpu.tflite'));
}

test('operators out of topological order are refused, naming the op and the tensor', () => {
  const run = partitionEdited((m) => {
    const ops = m.subgraphs[0]!.operators;
    [ops[0], ops[1]] = [ops[1]!, ops[0]!]; // the Edge TPU op now reads 'input' before QUANTIZE writes it
  });
  assert.throws(run, /edited_edgetpu\.tflite: operator 0 \(CUSTOM\(edgetpu-custom-op\)\) reads tensor \d+ 'input' before operator 1 produces it/);
});

test('two boundary tensors with the same name are refused (they travel between parts by name)', () => {
  const run = partitionEdited((m) => {
    const sg = m.subgraphs[0]!;
    sg.tensors.find((t) => t.name === 'grid')!.name = 'input';
  });
  assert.throws(run, (e: Error & { code?: string }) => e.code === 'BAD_MODEL' && /tensors \d+ and \d+ are both named 'input'/.test(e.message));
});

test('models with more than one subgraph (control flow) are refused', () => {
  const run = partitionEdited((m) => {
    m.subgraphs.push({ name: 'body', tensors: [], inputs: [], outputs: [], operators: [] });
  });
  assert.throws(run, /edited_edgetpu\.tflite: has 2 subgraphs; only single-subgraph models/);
});
