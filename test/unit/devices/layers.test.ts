import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dequantize, fromDeviceOutput, toDeviceInput, toDeviceOutput } from '../../../main/devices/layers.ts';
import type { Layer } from '../../../main/devices/package.ts';

const tiled: Layer = {
  name: 'out', sizeBytes: 256, y: 8, x: 8, z: 1, zeroPoint: 128, scale: 0.0078125, dataType: 'FIXED_POINT8', executionCount: 1,
  layout: {
    yToLinearTile: [0, 0, 4, 4, 8, 8, 12, 12], xToLinearTile: [0, 0, 1, 1, 2, 2, 3, 3],
    tileByteOffset: Array.from({ length: 16 }, (_, i) => i * 16), xToLocalByteOffset: [0, 4, 0, 4, 0, 4, 0, 4],
    yToLocalY: [0, 1, 0, 1, 0, 1, 0, 1], xToLocalRowSize: Array(8).fill(8),
  },
};

test('tile layout → YXZ: element (y,x) comes from its tile, row and column offset', () => {
  const dev = new Uint8Array(256);
  // element (y=3, x=5): tile 4+2=6 → 96, local y 1 → +8, local x byte 4 → 108
  dev[108] = 42;
  const out = fromDeviceOutput(dev, tiled);
  assert.equal(out.length, 64);
  assert.equal(out[3 * 8 + 5], 42);
  assert.equal(out.filter((v) => v !== 0).length, 1);
  const t = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
  assert.deepEqual(fromDeviceOutput(toDeviceOutput(t, tiled), tiled), t);
});

test('signed types: the most significant bit is flipped on the way in and out', () => {
  const l8: Layer = { name: 's', sizeBytes: 24, y: 1, x: 1, z: 20, zeroPoint: 0, scale: 1, dataType: 'SIGNED_FIXED_POINT8', executionCount: 1 };
  const d = toDeviceInput(new Uint8Array([0x00, 0x7f, 0x80, 0xff, ...Array(16).fill(1)]), l8);
  assert.equal(d.length, 24, 'padded to the layer size');
  assert.deepEqual([...d.subarray(0, 4)], [0x80, 0xff, 0x00, 0x7f]);
  const l16: Layer = { ...l8, sizeBytes: 40, dataType: 'SIGNED_FIXED_POINT16' };
  const d16 = toDeviceInput(new Uint8Array(40).fill(0x01), l16);
  assert.deepEqual([...d16.subarray(0, 4)], [0x01, 0x81, 0x01, 0x81]);
  assert.deepEqual(fromDeviceOutput(d16, l16), new Uint8Array(40).fill(0x01));
  assert.throws(() => toDeviceInput(new Uint8Array(3), l8), /needs 20 bytes/);
});

test('dequantize uses the layer numerics', () => {
  const l: Layer = { name: 'p', sizeBytes: 16, y: 1, x: 1, z: 3, zeroPoint: 128, scale: 0.5, dataType: 'FIXED_POINT8', executionCount: 1 };
  assert.deepEqual([...dequantize(new Uint8Array([128, 130, 126]), l)], [0, 1, -1]);
});
