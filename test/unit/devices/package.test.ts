import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EdgeTpuModelError, readCustomOptions, readEdgeTpuModel, parsePackage } from '../../../main/devices/package.ts';

const bytes = (f: string) => new Uint8Array(readFileSync(new URL(`../../../../shared/fixtures/coral/${f}`, import.meta.url)));

test('mobilenet package: executables, relocations, hints and layers as recorded in the reference', () => {
  const m = readEdgeTpuModel(bytes('mobilenet_v1_0.25_128_quant_edgetpu.tflite'), 'mobilenet_edgetpu.tflite');
  const op = m.customOps[0]!;
  assert.equal(op.package.minRuntimeVersion, 12);
  assert.equal(op.package.executables.length, 2);
  assert.equal(op.main.type, 'EXECUTION_ONLY');
  assert.equal(op.caching!.type, 'PARAMETER_CACHING');
  assert.equal(op.main.bitstreams[0]!.bitstream.length, 170032);
  assert.equal(op.main.bitstreams[0]!.fieldOffsets.length, 8);
  assert.deepEqual([...op.main.bitstreams[0]!.bitstream.subarray(0, 2)], [0x80, 0x0f]);
  assert.equal(op.caching!.parameters.length, 566912);
  assert.equal(op.main.parameterCachingToken, 0x6d146c3f97d6648cn);
  assert.equal(op.caching!.parameterCachingToken, op.main.parameterCachingToken);
  assert.equal(op.main.chip, 'beagle');
  assert.deepEqual(op.main.hints.map((h) => h.kind), ['instruction', 'dma', 'dma', 'interrupt']);
  assert.deepEqual(op.main.inputLayers.map((l) => [l.name, l.sizeBytes, l.zeroPoint, l.scale, l.dataType]), [['input', 49152, 128, 0.0078125, 'FIXED_POINT8']]);
  assert.equal(op.main.outputLayers[0]!.sizeBytes, 1008);
  assert.equal(op.main.outputLayers[0]!.z, 1001);
});

test('LSTM package: non-deterministic hints, signed state layers', () => {
  const op = readEdgeTpuModel(bytes('keras_lstm_mnist_ptq_edgetpu.tflite')).customOps[0]!;
  assert.equal(op.main.fullyDeterministic, false);
  assert.equal(op.main.hints.some((h) => h.kind === 'interrupt'), false);
  assert.equal(op.main.scratchSizeBytes, 672);
  assert.deepEqual(op.main.inputLayers.map((l) => l.dataType), ['FIXED_POINT8', 'SIGNED_FIXED_POINT8', 'SIGNED_FIXED_POINT16']);
  assert.equal(op.caching!.parameters.length, 43968);
});

test('split_concat package: 3 inputs, 5 tiled outputs, compiler version', () => {
  const op = readEdgeTpuModel(bytes('split_concat_edgetpu.tflite')).customOps[0]!;
  assert.equal(op.package.compilerVersion, 'cl/343520747');
  assert.deepEqual(op.main.inputLayers.map((l) => l.sizeBytes), [192, 64, 128]);
  assert.ok(op.main.outputLayers.every((l) => l.sizeBytes === 256 && l.layout!.tileByteOffset.length === 16));
});

test('an uncompiled model, a truncated package and garbage options give errors naming the file', () => {
  assert.throws(() => readEdgeTpuModel(bytes('split_concat.tflite'), 'split_concat.tflite'), (e: Error) => e instanceof EdgeTpuModelError && /split_concat.tflite: has no edgetpu-custom-op/.test(e.message));
  const m = readEdgeTpuModel(bytes('split_concat_edgetpu.tflite'));
  const sg = m.tflite.subgraphs[0]!;
  const opts = sg.operators[0]!.customOptions!;
  const { packageBytes } = readCustomOptions(opts, 'x');
  assert.equal(String.fromCharCode(...packageBytes.subarray(4, 8)), 'DWN1');
  for (const cut of [16, 200, packageBytes.length >> 1]) {
    assert.throws(() => parsePackage(packageBytes.slice(0, cut), 'cut_edgetpu.tflite'), (e: Error) => e instanceof EdgeTpuModelError && e.message.startsWith('cut_edgetpu.tflite:'));
  }
  assert.throws(() => readCustomOptions(new Uint8Array([1, 2, 3, 4]), 'bad.tflite'), (e: Error) => /bad.tflite: cannot read the edgetpu-custom-op options/.test(e.message));
});
