import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync, gzipSync } from 'fflate';
import { openDataset, parseNpy } from '../../../main/data/index.ts';
import { MNIST, npy, tempDir } from './helpers.ts';

const extent = (x: Float32Array) => x.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);

test('IDX: MNIST test set, first N samples with labels, read on demand', async () => {
  const ds = await openDataset({ location: join(MNIST, 't10k-images-idx3-ubyte'), labelsPath: join(MNIST, 't10k-labels-idx1-ubyte'), limit: 200 });
  assert.equal(ds.kind, 'idx');
  assert.equal(ds.count, 200);
  assert.deepEqual(ds.inputShape, [28, 28, 1]);
  assert.deepEqual(Array.from(ds.labels!.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]); // the well-known first test labels
  const x = await ds.batch(0, 200);
  assert.equal(x.length, 200 * 784);
  assert.deepEqual(extent(x), [0, 1]);
  assert.deepEqual(ds.warnings, []);
  // Resize + symmetric scale through the same preprocessing as images.
  const small = await openDataset({ location: join(MNIST, 't10k-images-idx3-ubyte'), limit: 150, preprocessing: { resize: { height: 14, width: 14 }, scale: 'symmetric' } });
  const s = await small.batch(0, 1);
  assert.equal(s.length, 196);
  assert.equal(extent(s)[0], -1);
});

test('IDX: label count mismatch and non-IDX files are clear errors', async () => {
  const dir = tempDir();
  const labels = new Uint8Array(8 + 5);
  new DataView(labels.buffer).setUint32(0, 0x801);
  new DataView(labels.buffer).setUint32(4, 5);
  writeFileSync(join(dir, 'five-labels'), labels);
  await assert.rejects(
    openDataset({ location: join(MNIST, 't10k-images-idx3-ubyte'), labelsPath: join(dir, 'five-labels') }),
    /Label count mismatch: ".*t10k-images-idx3-ubyte" has 10000 samples but ".*five-labels" has 5 labels/,
  );
  writeFileSync(join(dir, 'junk.bin'), 'not a dataset');
  await assert.rejects(openDataset({ location: join(dir, 'junk.bin') }), /Cannot tell what kind of dataset ".*junk.bin" is/);
  await assert.rejects(openDataset({ location: join(dir, 'junk.bin'), kind: 'idx' }), /is not an IDX file/);
});

test('npy: header parsing, dtypes, version 1 and 2 headers', () => {
  const f4 = parseNpy(npy('<f4', [2, 3], Float32Array.from([1, 2, 3, 4, 5, 6])), 'a.npy');
  assert.deepEqual([f4.dtype, f4.shape, Array.from(f4.data)], ['<f4', [2, 3], [1, 2, 3, 4, 5, 6]]);
  assert.deepEqual(Array.from(parseNpy(npy('<i8', [3], BigInt64Array.from([1n, -2n, 3n])), 'b.npy').data), [1, -2, 3]);
  assert.deepEqual(Array.from(parseNpy(npy('|u1', [2], Uint8Array.from([0, 255])), 'c.npy').data), [0, 255]);
  assert.deepEqual(Array.from(parseNpy(npy('<f8', [1], Float64Array.from([0.5])), 'd.npy').data), [0.5]);
  assert.deepEqual(Array.from(parseNpy(npy('<f2', [2], Uint16Array.from([0x3c00, 0xc000])), 'h.npy').data), [1, -2]);
  // Version 2 header (uint32 length).
  const v1 = npy('<f4', [1], Float32Array.from([7]));
  const hlen = new DataView(v1.buffer).getUint16(8, true);
  const v2 = new Uint8Array(v1.length + 2);
  v2.set(v1.subarray(0, 8));
  v2[6] = 2;
  new DataView(v2.buffer).setUint32(8, hlen, true);
  v2.set(v1.subarray(10), 12);
  assert.deepEqual(Array.from(parseNpy(v2, 'v2.npy').data), [7]);
  assert.throws(() => parseNpy(npy('<U5', [1], new Uint8Array(20)), 'names.npy'), /"names.npy" has unsupported dtype '<U5'/);
  assert.throws(() => parseNpy(npy('>f4', [1], new Uint8Array(4)), 'be.npy'), /unsupported dtype '>f4'/);
  assert.throws(() => parseNpy(npy('<f4', [2, 2], new Float32Array(4), true), 'f.npy'), /Fortran order/);
  assert.throws(() => parseNpy(npy('<f4', [4], new Float32Array(2)), 't.npy'), /"t.npy" is truncated/);
  assert.throws(() => parseNpy(new Uint8Array(20), 'z.npy'), /not a .npy file/);
});

test('npy/npz datasets: images with labels, one-hot labels, mismatches and NaN', async () => {
  const dir = tempDir();
  const n = 120;
  const x = Uint8Array.from({ length: n * 4 * 4 * 3 }, (_, i) => i % 256);
  const y = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3));
  writeFileSync(join(dir, 'x.npy'), npy('|u1', [n, 4, 4, 3], x));
  writeFileSync(join(dir, 'y.npy'), npy('<i8', [n], y));
  const ds = await openDataset({ location: join(dir, 'x.npy'), labelsPath: join(dir, 'y.npy'), preprocessing: { channelOrder: 'BGR' } });
  assert.deepEqual([ds.kind, ds.count, ds.inputShape], ['npy', n, [4, 4, 3]]);
  const b = await ds.batch(1, 1);
  assert.deepEqual(Array.from(b.subarray(0, 3), (v) => Math.round(v * 255)), [50, 49, 48]); // sample 1 starts at 48: BGR swap
  assert.deepEqual(Array.from(ds.labels!.subarray(0, 4)), [0, 1, 2, 0]);

  const oneHot = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) oneHot[i * 3 + ((i + 1) % 3)] = 1;
  writeFileSync(join(dir, 'd.npz'), zipSync({ 'x.npy': npy('|u1', [n, 4, 4, 3], x), 'y.npy': npy('<f4', [n, 3], oneHot) }));
  const z = await openDataset({ location: join(dir, 'd.npz') });
  assert.deepEqual([z.kind, Array.from(z.labels!.subarray(0, 3))], ['npz', [1, 2, 0]]);
  writeFileSync(join(dir, 'other.npz'), zipSync({ 'features.npy': npy('|u1', [2], new Uint8Array(2)) }));
  await assert.rejects(openDataset({ location: join(dir, 'other.npz') }), /has no samples array; it contains: features/);

  writeFileSync(join(dir, 'y-short.npy'), npy('<i8', [n - 1], y.subarray(1)));
  await assert.rejects(openDataset({ location: join(dir, 'x.npy'), labelsPath: join(dir, 'y-short.npy') }), /Label count mismatch: .* has 120 samples but .*y-short.npy" has 119 labels/);

  const f = Float32Array.from({ length: n * 5 }, (_, i) => (i % 5) / 5);
  f[37 * 5 + 2] = NaN;
  writeFileSync(join(dir, 'nan.npy'), npy('<f4', [n, 5], f));
  const nan = await openDataset({ location: join(dir, 'nan.npy'), preprocessing: { scale: 'raw' } });
  await assert.rejects(nan.batch(30, 10), /nan.npy" sample 37 contains NaN at value 2/);
});

test('range warnings: 0..255 data for a [0,1] model, and data scaled twice', async () => {
  const dir = tempDir();
  const n = 100;
  writeFileSync(join(dir, 'pixels.npy'), npy('<f4', [n, 2, 2, 1], Float32Array.from({ length: n * 4 }, (_, i) => (i * 37) % 256)));
  writeFileSync(join(dir, 'unit.npy'), npy('<f4', [n, 2, 2, 1], Float32Array.from({ length: n * 4 }, (_, i) => ((i * 37) % 256) / 255)));
  const raw = await openDataset({ location: join(dir, 'pixels.npy'), preprocessing: { scale: 'raw' }, modelRange: [0, 1] });
  assert.match(raw.warnings.join('\n'), /samples span \[0, 2\d\d\] but the model expects about \[0, 1\]/);
  const twice = await openDataset({ location: join(dir, 'unit.npy'), preprocessing: { scale: 'unit' } });
  assert.match(twice.warnings.join('\n'), /tiny part of the expected input range.*scaled twice/);
  const right = await openDataset({ location: join(dir, 'unit.npy'), preprocessing: { scale: 'raw' }, modelRange: [0, 1] });
  assert.deepEqual(right.warnings, []);
});

test('CSV: header detection, named/last/string label columns, gzip, bad cells', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'h.csv'), 'a,label,b\n1,0,2\n3,1,4\n\n5,2,6\n');
  const h = await openDataset({ location: join(dir, 'h.csv'), preprocessing: { scale: 'raw' } });
  assert.deepEqual([h.count, h.inputShape, Array.from(h.labels!)], [3, [2], [0, 1, 2]]);
  assert.deepEqual(Array.from(await h.batch(0, 3)), [1, 2, 3, 4, 5, 6]);
  writeFileSync(join(dir, 'n.csv.gz'), gzipSync(new TextEncoder().encode('0.5;1.5;cat\n2.5;3.5;dog\n1;1;cat\n')));
  const g = await openDataset({ location: join(dir, 'n.csv.gz'), preprocessing: { scale: 'raw', mean: [1, 2], std: [2, 2] } });
  assert.deepEqual([g.classNames, Array.from(g.labels!)], [['cat', 'dog'], [0, 1, 0]]);
  assert.deepEqual(Array.from(await g.batch(0, 1)), [-0.25, -0.25]);
  const none = await openDataset({ location: join(dir, 'h.csv'), labelColumn: 'none', preprocessing: { scale: 'raw' } });
  assert.deepEqual([none.labels, none.inputShape], [undefined, [3]]);
  writeFileSync(join(dir, 'bad.csv'), 'x,y\n1,2\n3,abc\n');
  await assert.rejects(openDataset({ location: join(dir, 'bad.csv'), labelColumn: 'none' }), /CSV ".*bad.csv" line 3, column "y": "abc" is not a number/);
  await assert.rejects(openDataset({ location: join(dir, 'h.csv'), labelColumn: 'species' }), /no column named "species"; columns: a, label, b/);
  await assert.rejects(openDataset({ location: join(dir, 'h.csv'), preprocessing: { resize: { height: 2, width: 2 } } }), /resize\/centerCrop need image samples/);
});
