import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  preprocessSample, describePreprocessing, preprocessingForModel, expectedRange, DEFAULT_PREPROCESSING, type Preprocessing,
} from '../../../main/data/index.ts';

const raw = (p: Partial<Preprocessing>): Preprocessing => ({ ...DEFAULT_PREPROCESSING, scale: 'raw', ...p });
const img = (h: number, w: number, c: number, data: number[]) => ({ kind: 'image' as const, height: h, width: w, channels: c, data });

test('bilinear resize uses half-pixel centers (same numbers as TF2 tf.image.resize)', () => {
  const out = preprocessSample(img(2, 2, 1, [0, 10, 20, 30]), raw({ resize: { height: 4, width: 4 } }), 't');
  assert.deepEqual(Array.from(out), [0, 2.5, 7.5, 10, 5, 7.5, 12.5, 15, 15, 17.5, 22.5, 25, 20, 22.5, 27.5, 30]);
  // Same size is the identity.
  assert.deepEqual(Array.from(preprocessSample(img(2, 2, 1, [0, 10, 20, 30]), raw({ resize: { height: 2, width: 2 } }), 't')), [0, 10, 20, 30]);
});

test('center crop keeps the central fraction before resizing', () => {
  const data = Array.from({ length: 16 }, (_, i) => i); // 4×4
  assert.deepEqual(Array.from(preprocessSample(img(4, 4, 1, data), raw({ centerCrop: 0.5 }), 't')), [5, 6, 9, 10]);
});

test('channel conversion, order, scale and mean/std', () => {
  const px = img(1, 1, 3, [255, 0, 51]);
  assert.deepEqual(Array.from(preprocessSample(px, raw({ channelOrder: 'BGR' }), 't')), [51, 0, 255]);
  assert.ok(Math.abs(preprocessSample(px, raw({ channels: 1 }), 't')[0] - (0.299 * 255 + 0.114 * 51)) < 1e-4);
  assert.deepEqual(Array.from(preprocessSample(img(1, 1, 1, [255]), raw({ channels: 3 }), 't')), [255, 255, 255]);
  assert.deepEqual(Array.from(preprocessSample(px, { ...DEFAULT_PREPROCESSING, scale: 'unit' }, 't'), (v) => +v.toFixed(4)), [1, 0, 0.2]);
  assert.deepEqual(Array.from(preprocessSample(px, { ...DEFAULT_PREPROCESSING, scale: 'symmetric' }, 't'), (v) => +v.toFixed(4)), [1, -1, -0.6]);
  const imagenet = { ...DEFAULT_PREPROCESSING, scale: 'unit' as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  const n = preprocessSample(px, imagenet, 't');
  assert.ok(Math.abs(n[0] - (1 - 0.485) / 0.229) < 1e-5 && Math.abs(n[1] + 0.456 / 0.224) < 1e-5);
  assert.throws(() => preprocessSample(img(1, 1, 2, [1, 2]), raw({ channels: 3 }), 'two.npy sample 0'), /two.npy sample 0 has 2 channel\(s\) but the model expects 3/);
  assert.throws(() => preprocessSample(px, raw({ mean: [1, 2] }), 'p'), /mean has 2 values but samples have 3/);
});

test('preprocessing for a model, expected range and the plain-words description', () => {
  const p = preprocessingForModel([-1, 224, 224, 3], { scale: 'symmetric' });
  assert.deepEqual(p, { scale: 'symmetric', channelOrder: 'RGB', resize: { height: 224, width: 224 }, channels: 3 });
  assert.deepEqual(expectedRange(p), [-1, 1]);
  assert.equal(describePreprocessing(p), 'Resize to 224×224 (bilinear), RGB, scale to [-1, 1]');
  const caffe = preprocessingForModel([1, 28, 28, 1], { scale: 'raw', mean: [127.5], std: [127.5], centerCrop: 0.875 });
  assert.equal(describePreprocessing(caffe), 'Center-crop 87.5%, resize to 28×28 (bilinear), grayscale, raw values (0-255 for images), normalize with mean [127.5] and std [127.5]');
  assert.deepEqual(expectedRange(caffe), [-1, 1]);
  assert.throws(() => preprocessSample(img(1, 1, 1, [1]), { ...DEFAULT_PREPROCESSING, scale: 'bytes' as never }, 'x'), /scale must be unit, symmetric or raw, got "bytes"/);
});
