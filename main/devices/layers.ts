/**
 * Host-side transforms between TFLite tensor bytes and the Edge TPU's layer buffers (libedgetpu
 * `api/layer_information.cc`): padding to the layer's size, the signed-type flip (the TPU works on offset
 * binary: the most significant bit of every int8/int16 element is inverted on the way in and out), the
 * tile-order → YXZ re-layout of 3-D outputs, and dequantization.
 *
 * `toDeviceOutput` is the inverse of `fromDeviceOutput`; only the emulator uses it (it plays the chip).
 */
import { DATA_TYPE_BYTES, type Layer } from './package.ts';

function isSigned(layer: Layer): boolean {
  return layer.dataType === 'SIGNED_FIXED_POINT8' || layer.dataType === 'SIGNED_FIXED_POINT16' || layer.dataType === 'SIGNED_FIXED_POINT32';
}

/** XOR the top bit of every element (little-endian) — its own inverse. */
export function flipSign(bytes: Uint8Array, layer: Layer): void {
  if (!isSigned(layer)) return;
  const w = DATA_TYPE_BYTES[layer.dataType];
  for (let i = w - 1; i < bytes.length; i += w) bytes[i]! ^= 0x80;
}

/** Unpadded tensor size in bytes (batch 1). */
export function tensorBytes(layer: Layer): number {
  return layer.y * layer.x * layer.z * DATA_TYPE_BYTES[layer.dataType] * Math.max(1, layer.executionCount);
}

/** TFLite input bytes → the buffer sent to the TPU (padded to `sizeBytes`, signed types flipped). */
export function toDeviceInput(data: Uint8Array, layer: Layer): Uint8Array {
  const want = tensorBytes(layer);
  if (data.length !== want) throw new Error(`Input "${layer.name}" needs ${want} bytes (${layer.y}×${layer.x}×${layer.z} ${layer.dataType}) but got ${data.length}.`);
  const out = new Uint8Array(Math.max(layer.sizeBytes, want));
  out.set(data);
  flipSign(out.subarray(0, want), layer);
  return out;
}

/** Byte offset in the device buffer of element (y, x, 0) when the output comes tile by tile. */
function tileOffset(layer: Layer, y: number, x: number): number {
  const l = layer.layout!;
  const tile = l.yToLinearTile[y]! + l.xToLinearTile[x]!;
  return l.tileByteOffset[tile]! + l.yToLocalY[y]! * l.xToLocalRowSize[x]! + l.xToLocalByteOffset[x]!;
}

function uses3dLayout(layer: Layer): boolean {
  // executable.fbs: the layout is only meaningful for outputs with x and y dimensions; 1-D outputs are linear.
  return !!layer.layout && (layer.x > 1 || layer.y > 1) && layer.layout.yToLinearTile.length >= layer.y && layer.layout.xToLinearTile.length >= layer.x;
}

/** The TPU's output buffer for one layer → TFLite tensor bytes (YXZ, unpadded, signed types restored). */
export function fromDeviceOutput(device: Uint8Array, layer: Layer): Uint8Array {
  const bytes = DATA_TYPE_BYTES[layer.dataType];
  const out = new Uint8Array(tensorBytes(layer));
  if (uses3dLayout(layer)) {
    const zBytes = layer.z * bytes;
    for (let y = 0; y < layer.y; y++)
      for (let x = 0; x < layer.x; x++) {
        const src = tileOffset(layer, y, x);
        if (src + zBytes > device.length) throw new Error(`Output "${layer.name}": the device buffer (${device.length} B) is too short for its tile layout.`);
        out.set(device.subarray(src, src + zBytes), (y * layer.x + x) * zBytes);
      }
  } else {
    if (device.length < out.length) throw new Error(`Output "${layer.name}": got ${device.length} bytes from the device, need ${out.length}.`);
    out.set(device.subarray(0, out.length));
  }
  flipSign(out, layer);
  return out;
}

/** Inverse of `fromDeviceOutput` (used by the emulator to play the chip). Padding bytes are left 0. */
export function toDeviceOutput(tensor: Uint8Array, layer: Layer): Uint8Array {
  const bytes = DATA_TYPE_BYTES[layer.dataType];
  const data = tensor.slice(0, tensorBytes(layer));
  flipSign(data, layer);
  const out = new Uint8Array(Math.max(layer.sizeBytes, data.length));
  if (uses3dLayout(layer)) {
    const zBytes = layer.z * bytes;
    for (let y = 0; y < layer.y; y++)
      for (let x = 0; x < layer.x; x++) out.set(data.subarray((y * layer.x + x) * zBytes, (y * layer.x + x + 1) * zBytes), tileOffset(layer, y, x));
  } else out.set(data);
  return out;
}

/** real = scale × (q − zeroPoint); the signed types have no zero point on the TPU side. */
export function dequantize(tensor: Uint8Array, layer: Layer): Float32Array {
  const n = tensor.length / DATA_TYPE_BYTES[layer.dataType];
  const out = new Float32Array(n);
  const v = new DataView(tensor.buffer, tensor.byteOffset, tensor.byteLength);
  for (let i = 0; i < n; i++) {
    switch (layer.dataType) {
      case 'FIXED_POINT8': out[i] = (tensor[i]! - layer.zeroPoint) * layer.scale; break;
      case 'FIXED_POINT16': out[i] = (v.getUint16(2 * i, true) - layer.zeroPoint) * layer.scale; break;
      case 'SIGNED_FIXED_POINT8': out[i] = v.getInt8(i) * layer.scale; break;
      case 'SIGNED_FIXED_POINT16': out[i] = v.getInt16(2 * i, true) * layer.scale; break;
      case 'SIGNED_FIXED_POINT32': out[i] = v.getInt32(4 * i, true) * layer.scale; break;
      case 'SINGLE': out[i] = v.getFloat32(4 * i, true); break;
      default: throw new Error(`Output "${layer.name}": dequantizing ${layer.dataType} is not supported.`);
    }
  }
  return out;
}
