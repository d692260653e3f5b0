import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDir, defaultDataDir } from '../../../main/paths.ts';

test('EDGEWISE_HOME wins and is created on demand', () => {
  const base = mkdtempSync(join(tmpdir(), 'edgewise-paths-'));
  try {
    const home = join(base, 'nested', 'home');
    assert.equal(dataDir({ EDGEWISE_HOME: home }), home);
    assert.ok(existsSync(home));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('per-user defaults per platform', () => {
  assert.equal(defaultDataDir('linux', {}, '/home/u'), '/home/u/.local/share/edgewise');
  assert.equal(defaultDataDir('linux', { XDG_DATA_HOME: '/xdg' }, '/home/u'), '/xdg/edgewise');
  assert.equal(defaultDataDir('linux', { XDG_DATA_HOME: 'relative' }, '/home/u'), '/home/u/.local/share/edgewise');
  assert.equal(defaultDataDir('darwin', {}, '/Users/u'), '/Users/u/Library/Application Support/Edgewise');
  assert.equal(defaultDataDir('win32', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'C:\\Users\\u'), join('C:\\Users\\u\\AppData\\Roaming', 'Edgewise'));
});
