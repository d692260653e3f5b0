/**
 * MNIST-style IDX files: big-endian header (0, 0, type code, rank, then rank int32 dimensions) followed by the
 * data row-major. Images file [N, H, W] (or [N, H, W, C]), optional labels file [N]. Samples are read from the
 * file on demand, so the 47 MB MNIST training set is never loaded whole.
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import type { SampleSource } from './dataset.ts';
import type { RawSample } from './preprocess.ts';

const TYPES: Record<number, { name: string; bytes: number; read: (v: DataView, o: number) => number }> = {
  0x08: { name: 'unsigned byte', bytes: 1, read: (v, o) => v.getUint8(o) },
  0x09: { name: 'signed byte', bytes: 1, read: (v, o) => v.getInt8(o) },
  0x0b: { name: 'int16', bytes: 2, read: (v, o) => v.getInt16(o) },
  0x0c: { name: 'int32', bytes: 4, read: (v, o) => v.getInt32(o) },
  0x0d: { name: 'float32', bytes: 4, read: (v, o) => v.getFloat32(o) },
  0x0e: { name: 'float64', bytes: 8, read: (v, o) => v.getFloat64(o) },
};

export interface IdxHeader {
  type: number;
  dims: number[];
  dataOffset: number;
}

function readAt(fd: number, offset: number, length: number, path: string): DataView {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, offset);
  if (n !== length) throw new Error(`IDX file "${path}" is truncated: wanted ${length} bytes at offset ${offset}, got ${n}`);
  return new DataView(buf.buffer, buf.byteOffset, length);
}

export function readIdxHeader(fd: number, path: string): IdxHeader {
  const magic = readAt(fd, 0, 4, path);
  const type = magic.getUint8(2);
  const rank = magic.getUint8(3);
  if (magic.getUint16(0) !== 0 || !TYPES[type] || rank < 1) {
    throw new Error(`"${path}" is not an IDX file (magic bytes ${[0, 1, 2, 3].map((i) => magic.getUint8(i).toString(16).padStart(2, '0')).join(' ')})`);
  }
  const d = readAt(fd, 4, 4 * rank, path);
  const dims = Array.from({ length: rank }, (_, i) => d.getInt32(4 * i));
  const dataOffset = 4 + 4 * rank;
  const need = dataOffset + dims.reduce((a, b) => a * b, 1) * TYPES[type].bytes;
  const size = fstatSync(fd).size;
  if (size < need) throw new Error(`IDX file "${path}" is truncated: header says [${dims.join(', ')}] (${need} bytes) but the file has ${size}`);
  return { type, dims, dataOffset };
}

export interface IdxOptions {
  labelsPath?: string;
  /** Use only the first `limit` samples. */
  limit?: number;
}

export function idxSource(imagesPath: string, options: IdxOptions = {}): SampleSource {
  let fd: number;
  try {
    fd = openSync(imagesPath, 'r');
  } catch (e) {
    throw new Error(`Cannot open IDX file "${imagesPath}": ${(e as Error).message}`);
  }
  let header: IdxHeader;
  try {
    header = readIdxHeader(fd, imagesPath);
  } finally {
    closeSync(fd);
  }
  const [total, ...sampleDims] = header.dims;
  const count = Math.min(total, options.limit ?? total);
  const t = TYPES[header.type];
  const sampleLen = sampleDims.reduce((a, b) => a * b, 1);
  let labels: Int32Array | undefined;
  if (options.labelsPath) labels = readIdxLabels(options.labelsPath, total, count, imagesPath);
  const [h, w, c] = sampleDims.length === 2 ? [sampleDims[0], sampleDims[1], 1] : sampleDims;
  const isImage = sampleDims.length === 2 || sampleDims.length === 3;
  return {
    kind: 'idx',
    location: imagesPath,
    count,
    labels,
    describe: (i) => `"${imagesPath}" sample ${i}`,
    read(i): RawSample {
      // Open per read: datasets have no close(), and a leaked descriptor per dataset would add up in the app.
      const f = openSync(imagesPath, 'r');
      let view: DataView;
      try {
        view = readAt(f, header.dataOffset + i * sampleLen * t.bytes, sampleLen * t.bytes, imagesPath);
      } finally {
        closeSync(f);
      }
      const data = header.type === 0x08 ? new Uint8Array(view.buffer, view.byteOffset, sampleLen) : Float64Array.from({ length: sampleLen }, (_, k) => t.read(view, k * t.bytes));
      return isImage ? { kind: 'image', height: h, width: w, channels: c, data } : { kind: 'vector', data };
    },
  };
}

function readIdxLabels(path: string, expectTotal: number, count: number, imagesPath: string): Int32Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`Cannot open IDX labels file "${path}": ${(e as Error).message}`);
  }
  try {
    const h = readIdxHeader(fd, path);
    if (h.dims.length !== 1) throw new Error(`IDX labels file "${path}" must be 1-D, has shape [${h.dims.join(', ')}]`);
    if (h.dims[0] !== expectTotal) {
      throw new Error(`Label count mismatch: "${imagesPath}" has ${expectTotal} samples but "${path}" has ${h.dims[0]} labels`);
    }
    const t = TYPES[h.type];
    const v = readAt(fd, h.dataOffset, count * t.bytes, path);
    return Int32Array.from({ length: count }, (_, i) => t.read(v, i * t.bytes));
  } finally {
    closeSync(fd);
  }
}
