import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTflite } from '../../../main/tflite/reader.ts';
import { metadataString } from '../../../main/tflite/model.ts';
import { minRuntimeVersion } from '../../../main/tflite/op-version.ts';
import { fixture } from './helpers.ts';

test('reads the legacy uint8 MobileNet with its ops, quantization, metadata', () => {
  const bytes = fixture('mobilenet_v1_0.25_128_quant.tflite');
  const t0 = performance.now();
  const m = readTflite(bytes, 'mobilenet.tflite');
  console.log(`readTflite(mobilenet_v1_0.25_128_quant.tflite, ${bytes.length} B): ${(performance.now() - t0).toFixed(2)} ms`);
  assert.equal(m.version, 3);
  assert.equal(m.description, 'MLIR Converted.');
  const sg = m.subgraphs[0]!;
  const histogram: Record<string, number> = {};
  for (const op of sg.operators) {
    const name = m.operatorCodes[op.opcodeIndex]!.builtin;
    histogram[name] = (histogram[name] ?? 0) + 1;
  }
  assert.deepEqual(histogram, { CONV_2D: 15, DEPTHWISE_CONV_2D: 13, AVERAGE_POOL_2D: 1, RESHAPE: 1, SOFTMAX: 1 });
  assert.ok(m.operatorCodes.every((c) => c.version === 1));
  const input = sg.tensors[sg.inputs[0]!]!;
  assert.deepEqual([input.name, input.type, input.shape], ['input', 'UINT8', [1, 128, 128, 3]]);
  assert.deepEqual([input.quantization?.scale, input.quantization?.zeroPoint], [[0.0078125], [128]]);
  const output = sg.tensors[sg.outputs[0]!]!;
  assert.deepEqual([output.type, output.shape, output.quantization?.scale], ['UINT8', [1, 1001], [1 / 256]]);
  assert.equal(metadataString(m, 'min_runtime_version'), '1.5.0');
  assert.ok(m.metadata.some((x) => x.name === 'TFLITE_METADATA' && m.buffers[x.buffer]!.length === 696));
  assert.deepEqual(m.signatureDefs, []);
  const conv = sg.operators[0]!.builtinOptions!;
  assert.equal(conv.type, 'Conv2DOptions');
  assert.equal(conv.fusedActivationFunction, 'RELU6');
  assert.equal(conv.strideW, 2);
});

test('reads the int8 LSTM model (int16 state, signature, FC v4, SOFTMAX v2)', () => {
  const m = readTflite(fixture('keras_lstm_mnist_ptq.tflite'));
  assert.deepEqual(m.operatorCodes.map((c) => `${c.builtin}:${c.version}`),
    ['QUANTIZE:1', 'UNIDIRECTIONAL_SEQUENCE_LSTM:1', 'RESHAPE:1', 'FULLY_CONNECTED:4', 'SOFTMAX:2']);
  const sg = m.subgraphs[0]!;
  assert.ok(sg.tensors.some((t) => t.type === 'INT16' && t.isVariable));
  assert.equal(m.signatureDefs[0]?.signatureKey, 'serving_default');
  assert.equal(metadataString(m, 'min_runtime_version'), '1.14.0');
  // Our runtime-version table reproduces what the converter wrote.
  assert.equal(minRuntimeVersion(m.operatorCodes), '1.14.0');
  assert.equal(minRuntimeVersion(readTflite(fixture('mobilenet_v1_0.25_128_quant.tflite')).operatorCodes), '1.5.0');
});

test('reads multi-I/O split_concat', () => {
  const m = readTflite(fixture('split_concat.tflite'));
  const sg = m.subgraphs[0]!;
  assert.deepEqual(sg.inputs.map((i) => sg.tensors[i]!.name), ['input1', 'inputs/rnn1', 'inputs/rnn2']);
  assert.equal(sg.outputs.length, 5);
  assert.equal(m.description, '');
  assert.deepEqual(m.metadata, []);
});

test('exposes edgetpu-custom-op options bytes unchanged (DWN1 package inside)', () => {
  for (const [name, size] of [['mobilenet_v1_0.25_128_quant_edgetpu.tflite', 801454], ['split_concat_edgetpu.tflite', 58504]] as const) {
    const bytes = fixture(name);
    assert.equal(bytes.length, size);
    const m = readTflite(bytes, name);
    assert.equal(m.description, 'Exported from Subgraph.');
    const op = m.subgraphs[0]!.operators.find((o) => m.operatorCodes[o.opcodeIndex]!.customCode === 'edgetpu-custom-op');
    assert.ok(op?.customOptions, `${name}: edgetpu-custom-op with options`);
    const opts = op.customOptions!;
    // The bytes are a view of the file: same content at the same place.
    const at = opts.byteOffset - bytes.byteOffset;
    assert.deepEqual(opts, bytes.subarray(at, at + opts.length));
    const text = Buffer.from(opts).toString('latin1');
    assert.equal(text.split('DWN1').length - 1, 1, 'one DWN1 package');
    assert.equal(metadataString(m, 'min_runtime_version'), undefined);
  }
});

test('reads the fake-op model (no buffers, unnamed tensors)', () => {
  const m = readTflite(fixture('model_invoking_error.tflite'));
  assert.equal(m.description, 'programmatic model');
  assert.equal(m.operatorCodes[0]?.customCode, 'fake-op-double');
  assert.equal(m.operatorCodes[0]?.builtin, 'CUSTOM');
  assert.deepEqual(m.subgraphs[0]!.tensors.map((t) => [t.name, t.type]), [['', 'UINT8'], ['', 'FLOAT32']]);
});
