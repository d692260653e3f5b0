import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracy, agreement, argmax } from '../../../main/evaluate/metrics.ts';
import { percentile } from '../../../main/evaluate/benchmark.ts';

test('top-1, top-5, confusion matrix and per-class recall', () => {
  // 3 samples, 6 classes.
  const out = Float32Array.from([
    0.9, 0.1, 0, 0, 0, 0, // pred 0, label 0
    0.1, 0.2, 0.3, 0.4, 0.5, 0.6, // pred 5, label 1 (rank 4 → in top-5)
    0.6, 0.5, 0.4, 0.3, 0.2, 0.1, // pred 0, label 5 (rank 5 → not in top-5)
  ]);
  const r = accuracy(out, 6, Int32Array.from([0, 1, 5]));
  assert.equal(r.top1, 1 / 3);
  assert.equal(r.top5, 2 / 3);
  assert.equal(r.confusion[1]![5], 1);
  assert.equal(r.confusion[5]![0], 1);
  assert.deepEqual(r.perClass, [1, 0, null, null, null, 0]);
  assert.equal(accuracy(Float32Array.from([1, 0, 0, 1]), 2, Int32Array.from([0, 1])).top5, undefined, 'no top-5 for 2 classes');
  assert.throws(() => accuracy(out, 6, Int32Array.from([0, 1, 9])), /Label 9 of sample 2 is outside the model's 6 classes/);
});

test('agreement: top-1 and mean |Δ|', () => {
  const a = Float32Array.from([0.7, 0.3, 0.4, 0.6]);
  const b = Float32Array.from([0.6, 0.4, 0.6, 0.4]);
  const r = agreement(a, b, 2);
  assert.equal(r.top1Agreement, 0.5);
  assert.ok(Math.abs(r.meanAbsDelta - 0.15) < 1e-6);
  assert.ok(Math.abs(r.maxAbsDelta - 0.2) < 1e-6);
  assert.equal(argmax([1, 3, 2]), 1);
});

test('nearest-rank percentiles', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 90), 90);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile([5], 99), 5);
});
