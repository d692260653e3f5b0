import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImage, decodeImageFile, openDataset, datasetRecord } from '../../../main/data/index.ts';
import { openHistory } from '../../../main/history/history.ts';
import { FIXTURES, tempDir } from './helpers.ts';

const rgbToRgba = (img: { width: number; height: number; data: Uint8Array }) => {
  const out = Buffer.alloc(img.width * img.height * 4, 255);
  for (let i = 0; i < img.width * img.height; i++) out.set(img.data.subarray(i * 3, i * 3 + 3), i * 4);
  return out;
};
const toPng = (img: { width: number; height: number; data: Uint8Array }) => {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = rgbToRgba(img);
  return PNG.sync.write(png);
};
const toJpeg = (img: { width: number; height: number; data: Uint8Array }) =>
  jpeg.encode({ width: img.width, height: img.height, data: rgbToRgba(img) }, 95).data;

test('BMP: 24-bit and 8-bit palettized decode with the right orientation and channel order', async () => {
  const bird = await decodeImageFile(join(FIXTURES, 'bird.bmp'));
  assert.deepEqual([bird.width, bird.height, bird.grayscale], [512, 343, false]);
  // Reference values read from the raw bottom-up BGR rows with Python.
  assert.deepEqual(Array.from(bird.data.subarray(0, 3)), [135, 141, 61]);
  const at = (100 * 512 + 200) * 3;
  assert.deepEqual(Array.from(bird.data.subarray(at, at + 3)), [105, 138, 56]);
  const nine = await decodeImageFile(join(FIXTURES, 'mnist_nine.bmp'));
  assert.deepEqual([nine.width, nine.height, nine.grayscale], [28, 28, true]);
  // Row 14 of the digit (raw palette indices, palette is identity grey): ... 0 0 0 32 138 252 ...
  assert.deepEqual(Array.from({ length: 6 }, (_, x) => nine.data[(14 * 28 + 11 + x) * 3]), [0, 0, 0, 32, 138, 252]);
});

test('PNG and JPEG round trips; undecodable bytes name the file', () => {
  const img = { width: 4, height: 2, data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) };
  assert.deepEqual(Array.from(decodeImage(toPng(img), 'a.png').data), Array.from(img.data));
  const j = decodeImage(toJpeg(img), 'a.jpg');
  assert.equal(j.width, 4);
  assert.throws(() => decodeImage(Buffer.from('hello'), 'notes.png'), /Cannot decode image "notes.png": not a JPEG, PNG or BMP/);
  assert.throws(() => decodeImage(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]), 'cut.png'), /Cannot decode image "cut.png"/);
});

/** Class folders built from the coral photos: bird/ (PNG + JPEG), cat/ (BMP), plus a flat folder. */
async function buildFolders() {
  const dir = tempDir();
  const bird = await decodeImageFile(join(FIXTURES, 'bird.bmp'));
  mkdirSync(join(dir, 'classes', 'bird'), { recursive: true });
  mkdirSync(join(dir, 'classes', 'cat'));
  writeFileSync(join(dir, 'classes', 'bird', 'b1.png'), toPng(bird));
  writeFileSync(join(dir, 'classes', 'bird', 'b2.jpg'), toJpeg(bird));
  writeFileSync(join(dir, 'classes', 'bird', 'notes.txt'), 'ignored');
  copyFileSync(join(FIXTURES, 'cat.bmp'), join(dir, 'classes', 'cat', 'c1.bmp'));
  mkdirSync(join(dir, 'flat'));
  copyFileSync(join(FIXTURES, 'mnist_nine.bmp'), join(dir, 'flat', 'nine.bmp'));
  mkdirSync(join(dir, 'empty'));
  return dir;
}

test('image folder: sorted class folders become labels, samples are preprocessed for the model', async () => {
  const dir = await buildFolders();
  const ds = await openDataset({ location: join(dir, 'classes'), preprocessing: { resize: { height: 32, width: 32 }, channels: 3, scale: 'unit' } });
  assert.equal(ds.kind, 'image-folder');
  assert.deepEqual(ds.classNames, ['bird', 'cat']);
  assert.deepEqual(Array.from(ds.labels!), [0, 0, 1]);
  assert.deepEqual(ds.inputShape, [32, 32, 3]);
  const x = await ds.batch(0, 3);
  assert.equal(x.length, 3 * 32 * 32 * 3);
  assert.ok(Math.min(...x) >= 0 && Math.max(...x) <= 1);
  // PNG (lossless) and JPEG (q95) of the same photo agree closely after resize.
  let diff = 0;
  for (let i = 0; i < 3072; i++) diff += Math.abs(x[i] - x[3072 + i]);
  assert.ok(diff / 3072 < 0.02, `mean |png − jpeg| = ${diff / 3072}`);
  assert.match(ds.warnings.join('\n'), /Only 3 samples: calibration needs at least 100/);
  const seen: number[] = [];
  for await (const b of ds.batches(2)) seen.push(b.count, b.labels!.length);
  assert.deepEqual(seen, [2, 2, 1, 1]);

  const record = datasetRecord(ds, 'pets');
  assert.deepEqual(record, { name: 'pets', kind: 'image-folder', location: join(dir, 'classes'), sampleCount: 3, preprocessing: ds.preprocessing });
  const history = openHistory(join(dir, 'history'));
  try {
    const stored = history.addDataset(record);
    assert.deepEqual(stored.preprocessing, JSON.parse(JSON.stringify(ds.preprocessing)));
  } finally {
    history.close();
  }
});

test('image folder: flat folder is unlabelled; grayscale model input from a palettized BMP', async () => {
  const dir = await buildFolders();
  const ds = await openDataset({ location: join(dir, 'flat'), preprocessing: { channels: 1, scale: 'unit' } });
  assert.equal(ds.labels, undefined);
  assert.deepEqual(ds.inputShape, [28, 28, 1]);
  const x = await ds.batch(0, 1);
  assert.ok(Math.abs(x[14 * 28 + 14] - 32 / 255) < 1e-6);
});

test('image folder errors name the folder or the file', async () => {
  const dir = await buildFolders();
  await assert.rejects(openDataset({ location: join(dir, 'empty') }), /Dataset folder ".*empty" contains no images/);
  await assert.rejects(openDataset({ location: join(dir, 'classes'), preprocessing: { channels: 4 } }), /Image ".*b1.png" has 3 channel\(s\) but the model expects 4/);
  writeFileSync(join(dir, 'classes', 'cat', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0, 1, 2, 3]));
  // The first samples are inspected at open, so a broken image among them fails early, by name.
  await assert.rejects(openDataset({ location: join(dir, 'classes'), preprocessing: { resize: { height: 8, width: 8 } } }), /Cannot decode image ".*cat\/broken.jpg"/);
  const lazy = await openDataset({ location: join(dir, 'classes'), preprocessing: { resize: { height: 8, width: 8 } }, limit: 2 });
  assert.equal(lazy.count, 2);
  // Different sizes without a resize cannot be batched: the error names the image.
  const noResize = await openDataset({ location: join(dir, 'classes'), limit: 2 });
  await assert.rejects(noResize.batch(0, 3), /outside dataset/);
  writeFileSync(join(dir, 'classes', 'bird', 'b3.png'), toPng({ width: 2, height: 2, data: new Uint8Array(12) }));
  await assert.rejects(openDataset({ location: join(dir, 'classes') }), /b3.png" gives 12 values but the first sample gave/);
});
