/**
 * NumPy .npy and .npz (a zip of .npy files, stored or deflated; unzipped with fflate).
 * The .npy header is parsed properly: magic "\x93NUMPY", version 1 (uint16 header length) or 2/3 (uint32), a
 * Python dict literal with 'descr', 'fortran_order' and 'shape'. Little-endian and byte-sized dtypes only;
 * C order only.
 */
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import type { SampleSource } from './dataset.ts';
import type { RawSample } from './preprocess.ts';
import { fromFloat16 } from '../model/float16.ts';

export interface NpyArray {
  dtype: string;
  shape: number[];
  /** Values as a typed array of the file's dtype (int64/uint64 converted to Float64Array, float16 to Float32Array). */
  data: ArrayLike<number>;
}

const DTYPES: Record<string, (buf: ArrayBuffer, off: number, n: number) => ArrayLike<number>> = {
  '<f4': (b, o, n) => new Float32Array(b, o, n),
  '<f8': (b, o, n) => new Float64Array(b, o, n),
  '<f2': (b, o, n) => fromFloat16(new Uint16Array(b, o, n)),
  '|u1': (b, o, n) => new Uint8Array(b, o, n),
  '|i1': (b, o, n) => new Int8Array(b, o, n),
  '|b1': (b, o, n) => new Uint8Array(b, o, n),
  '<u2': (b, o, n) => new Uint16Array(b, o, n),
  '<i2': (b, o, n) => new Int16Array(b, o, n),
  '<u4': (b, o, n) => new Uint32Array(b, o, n),
  '<i4': (b, o, n) => new Int32Array(b, o, n),
  '<i8': (b, o, n) => Float64Array.from(new BigInt64Array(b, o, n), Number),
  '<u8': (b, o, n) => Float64Array.from(new BigUint64Array(b, o, n), Number),
};
const ALIASES: Record<string, string> = { '|u1': '|u1', '<u1': '|u1', '|i1': '|i1', '<i1': '|i1', '|b1': '|b1' };

export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new Error(`"${name}" is not a .npy file (bad magic)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [headerLen, headerStart] = major === 1 ? [view.getUint16(8, true), 10] : major === 2 || major === 3 ? [view.getUint32(8, true), 12] : [-1, 0];
  if (headerLen < 0) throw new Error(`"${name}": unsupported .npy format version ${major}`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`"${name}": malformed .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new Error(`"${name}" is stored in Fortran order; save it with np.ascontiguousarray(x) first`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`"${name}": bad shape (${shapeText})`);
  const dtype = ALIASES[descr] ?? descr;
  const make = DTYPES[dtype];
  if (!make) {
    throw new Error(`"${name}" has unsupported dtype '${descr}'; supported: ${Object.keys(DTYPES).join(' ')} (convert with x.astype(np.float32))`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const itemSize = Number(/\d+$/.exec(dtype)![0]);
  const offset = headerStart + headerLen;
  if (bytes.length - offset < n * itemSize) throw new Error(`"${name}" is truncated: shape (${shape.join(', ')}) needs ${n * itemSize} data bytes, has ${bytes.length - offset}`);
  // Copy so the typed array is aligned (the data offset is only guaranteed to be a multiple of 16 from the file start).
  const copy = new Uint8Array(n * itemSize);
  copy.set(bytes.subarray(offset, offset + n * itemSize)); // (Buffer.slice would be a view into Node's pool)
  return { dtype, shape, data: make(copy.buffer, 0, n) };
}

/** Reads a .npz and returns its arrays by name (without the .npy suffix). */
export function parseNpz(bytes: Uint8Array, name: string): Map<string, NpyArray> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new Error(`"${name}" is not a readable .npz (zip) file: ${(e as Error).message}`);
  }
  const out = new Map<string, NpyArray>();
  for (const [f, data] of Object.entries(files)) {
    if (f.endsWith('.npy')) out.set(f.slice(0, -4), parseNpy(data, `${name}:${f}`));
  }
  return out;
}

const X_KEYS = ['x', 'images', 'data', 'x_test', 'x_train', 'arr_0'];
const Y_KEYS = ['y', 'labels', 'y_test', 'y_train', 'arr_1'];

export interface NpyOptions {
  /** .npy file with labels (for a single .npy of samples). */
  labelsPath?: string;
  /** Array names inside a .npz. */
  xKey?: string;
  yKey?: string;
  limit?: number;
}

export function npySource(path: string, options: NpyOptions = {}): SampleSource {
  const read = (p: string) => {
    try {
      return readFileSync(p);
    } catch (e) {
      throw new Error(`Cannot read "${p}": ${(e as Error).message}`);
    }
  };
  let x: NpyArray;
  let y: NpyArray | undefined;
  let yName = options.labelsPath ?? '';
  const isNpz = path.toLowerCase().endsWith('.npz');
  if (isNpz) {
    const arrays = parseNpz(read(path), path);
    const pick = (key: string | undefined, candidates: string[], what: string, required: boolean) => {
      const k = key ?? candidates.find((c) => arrays.has(c));
      if (k === undefined || !arrays.has(k)) {
        if (!required && key === undefined) return undefined;
        throw new Error(`"${path}" has no ${what} array${key ? ` named "${key}"` : ''}; it contains: ${[...arrays.keys()].join(', ') || 'nothing'}`);
      }
      return [k, arrays.get(k)!] as const;
    };
    const xs = pick(options.xKey, X_KEYS, 'samples', true)!;
    x = xs[1];
    const ys = pick(options.yKey, Y_KEYS, 'labels', false);
    if (ys) [yName, y] = [`${path}:${ys[0]}`, ys[1]];
  } else {
    x = parseNpy(read(path), path);
    if (options.labelsPath) y = parseNpy(read(options.labelsPath), options.labelsPath);
  }
  if (x.shape.length < 1) throw new Error(`"${path}": samples must have a leading sample dimension, shape is ()`);
  const [total, ...sampleDims] = x.shape;
  if (sampleDims.length > 3) throw new Error(`"${path}": samples of rank ${sampleDims.length} (shape (${x.shape.join(', ')})) are not supported; use [N,H,W,C], [N,H,W] or [N,features]`);
  const count = Math.min(total, options.limit ?? total);
  const labels = y ? labelsFrom(y, total, yName, path).subarray(0, count) : undefined;
  const len = sampleDims.reduce((a, b) => a * b, 1);
  const [h, w, c] = sampleDims.length === 2 ? [sampleDims[0], sampleDims[1], 1] : sampleDims;
  const isImage = sampleDims.length >= 2;
  const data = x.data as ArrayLike<number> & { subarray?: (a: number, b: number) => ArrayLike<number> };
  return {
    kind: isNpz ? 'npz' : 'npy',
    location: path,
    count,
    labels,
    describe: (i) => `"${path}" sample ${i}`,
    read(i): RawSample {
      const d = data.subarray ? data.subarray(i * len, (i + 1) * len) : Array.prototype.slice.call(data, i * len, (i + 1) * len);
      return isImage ? { kind: 'image', height: h, width: w, channels: c, data: d } : { kind: 'vector', data: d };
    },
  };
}

/** Integer class labels from [N] ints (or integral floats) or [N, K] one-hot/probabilities (argmax). */
function labelsFrom(y: NpyArray, count: number, yName: string, xName: string): Int32Array {
  if (y.shape[0] !== count) {
    throw new Error(`Label count mismatch: "${xName}" has ${count} samples but "${yName}" has ${y.shape[0] ?? 0} labels`);
  }
  if (y.shape.length === 2) {
    const k = y.shape[1];
    return Int32Array.from({ length: count }, (_, i) => {
      let best = 0;
      for (let j = 1; j < k; j++) if (y.data[i * k + j] > y.data[i * k + best]) best = j;
      return best;
    });
  }
  if (y.shape.length !== 1) throw new Error(`"${yName}": labels must be [N] or one-hot [N, K], shape is (${y.shape.join(', ')})`);
  return Int32Array.from({ length: count }, (_, i) => {
    const v = y.data[i];
    if (!Number.isInteger(v)) throw new Error(`"${yName}": label ${i} is ${v}, not an integer class index`);
    return v;
  });
}
