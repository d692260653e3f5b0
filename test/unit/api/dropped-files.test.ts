// FileHandles.registerDropped: what the Electron shell does with paths the preload read from a real drop.
// Only existing model files become handles (purpose 'model', never 'export'); everything else is refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileHandles } from '../../../main/api/files.ts';

test('registerDropped: model files become model handles; folders, other files, relative paths and junk are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-drop-'));
  try {
    const model = join(dir, 'net.keras');
    writeFileSync(model, 'x');
    writeFileSync(join(dir, 'notes.txt'), 'x');
    mkdirSync(join(dir, 'images'));
    const files = new FileHandles(null);
    const r = files.registerDropped([model, join(dir, 'notes.txt'), join(dir, 'images'), join(dir, 'gone.h5'), 'relative.keras', 42]);
    assert.deepEqual(r.files.map((f) => [f.name, f.purpose]), [['net.keras', 'model']]);
    assert.equal(files.resolve(r.files[0]!.handle, 'model'), model);
    assert.throws(() => files.resolve(r.files[0]!.handle, 'export'), /picked as a model, not as a export/);
    assert.deepEqual(r.rejected.map((x) => x.name), ['notes.txt', 'images', 'gone.h5', 'relative.keras', '(not a file)']);
    assert.match(r.rejected[0]!.reason, /not a model file/);
    assert.match(r.rejected[1]!.reason, /folders cannot be dropped/);
    // Paths never come back: only names.
    assert.ok(!JSON.stringify(r).includes(dir));
    assert.deepEqual(files.registerDropped('not an array'), { files: [], rejected: [] });
    const many = files.registerDropped(Array.from({ length: 20 }, () => model));
    assert.equal(many.files.length, 16);
    assert.match(many.rejected.at(-1)!.reason, /at most 16/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
