import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRecipe, presetRecipe, resolveRecipe, RECIPE_PRESETS, recipeSchema, DEFAULT_CALIBRATION_METHOD } from '../../../main/optimize/recipe.ts';

test('every preset is a complete, valid recipe with every option explicit', () => {
  for (const p of RECIPE_PRESETS) {
    const r = presetRecipe(p);
    assert.equal(recipeSchema.safeParse(r).success, true, p);
    assert.equal(r.name, p);
  }
  assert.equal(presetRecipe('int8').calibration.method, DEFAULT_CALIBRATION_METHOD);
  const e = presetRecipe('int8-edgetpu');
  assert.equal(e.integerOnly, true);
  assert.deepEqual(e.io, { input: 'uint8', output: 'uint8' });
});

test('a partial recipe file is filled from its technique preset; the result round-trips through JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'recipe-'));
  const file = join(dir, 'r.json');
  writeFileSync(file, JSON.stringify({ technique: 'int8', name: 'mine', calibration: { method: 'kl' }, weights: { perChannel: false } }));
  const r = resolveRecipe(file);
  assert.equal(r.calibration.method, 'kl');
  assert.equal(r.weights.perChannel, false);
  assert.equal(r.weights.perChannelDense, true);
  assert.deepEqual(parseRecipe(JSON.parse(JSON.stringify(r))), r);
});

test('bad recipes fail with the field named', () => {
  assert.throws(() => parseRecipe({ technique: 'int4' }), /technique must be float16, dynamic-range or int8/);
  assert.throws(() => parseRecipe({ name: 'x' }), /missing "technique"/);
  assert.throws(() => parseRecipe({ technique: 'int8', calibration: { method: 'median' } }), /calibration\.method/);
  assert.throws(() => parseRecipe({ technique: 'int8', calibration: { samples: 0 } }), /calibration\.samples/);
  assert.throws(() => parseRecipe({ technique: 'int8', typo: true }), /typo|Unrecognized/);
  assert.throws(() => parseRecipe({ technique: 'int8', integerOnly: true }), /integerOnly \(Edge TPU\) needs int8 or uint8/);
  assert.throws(() => resolveRecipe('/nonexistent/recipe.json'), /neither a preset/);
});
