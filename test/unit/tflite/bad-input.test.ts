import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTflite } from '../../../main/tflite/reader.ts';
import { writeTflite } from '../../../main/tflite/writer.ts';
import { TfliteFormatError, type TfliteModel } from '../../../main/tflite/model.ts';
import { fixture } from './helpers.ts';

function rejects(bytes: Uint8Array, problem: RegExp): void {
  assert.throws(() => readTflite(bytes, 'bad.tflite'), (e: unknown) => {
    assert.ok(e instanceof TfliteFormatError, `expected TfliteFormatError, got ${String(e)}`);
    assert.match(e.message, /^bad\.tflite: /);
    assert.match(e.problem, problem);
    return true;
  });
}

function oneTensorModel(shape: number[], bufferCount = 1, tensorBuffer = 0): TfliteModel {
  return {
    version: 3, description: '', operatorCodes: [], metadata: [], signatureDefs: [],
    buffers: Array.from({ length: bufferCount }, () => new Uint8Array(0)),
    subgraphs: [{ name: 'main', tensors: [{ name: 'conv1/weights', shape, type: 'FLOAT32', buffer: tensorBuffer, isVariable: false }], inputs: [0], outputs: [0], operators: [] }],
  };
}

test('wrong magic, empty and tiny files', () => {
  const good = fixture('split_concat.tflite');
  const wrong = good.slice();
  wrong.set([0x54, 0x46, 0x4c, 0x32], 4); // "TFL2"
  rejects(wrong, /not a TFLite model \(file identifier is "TFL2", expected "TFL3"\)/);
  rejects(new TextEncoder().encode('PK\x03\x04 this is a zip file'), /not a TFLite model/);
  rejects(new Uint8Array(0), /file is 0 bytes, too short/);
  rejects(good.subarray(0, 7), /too short/);
});

test('truncated files', () => {
  const good = fixture('mobilenet_v1_0.25_128_quant.tflite');
  // (The converter's file has unreferenced bytes at its end, so cutting only those is not detectable.)
  for (const fraction of [0.001, 0.1, 0.5, 0.9]) {
    rejects(good.slice(0, Math.floor(good.length * fraction)), /outside the file|more than the .*-byte file can hold/);
  }
});

test('corrupted offsets: root offset, root vtable, a vector length', () => {
  const good = fixture('split_concat.tflite');
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const badRoot = good.slice();
  dv(badRoot).setUint32(0, 0x7ffffff0, true);
  rejects(badRoot, /root table lies outside the file/);

  const root = dv(good).getUint32(0, true);
  const badVtable = good.slice();
  dv(badVtable).setInt32(root, -0x100000, true); // vtable far beyond the end
  rejects(badVtable, /Model vtable lies outside the file/);

  const badVtLen = good.slice();
  const vt = root - dv(good).getInt32(root, true);
  dv(badVtLen).setUint16(vt, 3, true);
  rejects(badVtLen, /Model has a corrupt vtable \(length 3\)/);

  // A buffer's data vector claiming 2 GB.
  const model = fixture('keras_lstm_mnist_ptq.tflite');
  const m = readTflite(model);
  const data = m.buffers.find((b) => b.length > 100)!;
  const huge = model.slice();
  dv(huge).setUint32(data.byteOffset - model.byteOffset - 4, 0x7fffffff, true);
  rejects(huge, /buffer \d+ data claims 2147483647 elements, more than the 13928-byte file can hold/);
});

test('absurd shapes and sizes name the tensor', () => {
  rejects(writeTflite(oneTensorModel([100000, 100000, 1000])), /tensor 0 'conv1\/weights' has shape \[100000, 100000, 1000\] .* which no model can hold/);
  rejects(writeTflite(oneTensorModel([1, -5])), /tensor 0 'conv1\/weights' has a negative dimension/);
  // Shape says 4 floats but the buffer holds 3 bytes.
  const m = oneTensorModel([2, 2], 2, 1);
  m.buffers[1] = new Uint8Array(3);
  rejects(writeTflite(m), /tensor 0 'conv1\/weights' has shape \[2, 2\] of FLOAT32 \(16 bytes\) but its buffer 1 holds 3 bytes/);
});

test('out-of-range buffer index names the tensor and both counts', () => {
  // 0x1234 is a marker we can find in the bytes; the writer only allows valid indices, so patch afterwards.
  const bytes = writeTflite(oneTensorModel([1], 0x1235, 0x1234));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let patched = 0;
  for (let p = 0; p + 4 <= bytes.length; p += 4) {
    if (dv.getUint32(p, true) === 0x1234) {
      dv.setUint32(p, 99999, true);
      patched++;
    }
  }
  assert.equal(patched, 1);
  rejects(bytes, /^tensor 0 'conv1\/weights' points at buffer 99999 but the model has 4661 buffers$/);
});

test('out-of-range operator indices name the operator', () => {
  const m = readTflite(fixture('split_concat.tflite'));
  const bytes = writeTflite(m);
  const back = readTflite(bytes);
  assert.equal(back.subgraphs[0]!.operators.length, 3);
  // Patch an operator's input index (int32 vector entries) to a tensor that does not exist.
  const op = back.subgraphs[0]!.operators[1]!; // SPLIT: inputs [11, 3], a pattern found nowhere else
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const want = op.inputs;
  for (let p = 4; p + 4 * (want.length + 1) <= bytes.length; p += 4) {
    if (dv.getUint32(p - 4, true) !== want.length) continue;
    if (want.every((v, i) => dv.getInt32(p + 4 * i, true) === v)) {
      dv.setInt32(p, 500, true);
      break;
    }
  }
  rejects(bytes, /^operator 1 \(SPLIT\) points at tensor 500 but the model has 12 tensors$/);
});
