// The remembered window geometry: restored when sane, dropped when it would open off-screen or is damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWindowState, saveWindowState } from '../../../main/app/window-state.ts';

const DISPLAY = [{ x: 0, y: 0, width: 1920, height: 1080 }];

test('saved geometry round-trips; a position on no display is dropped; damage gives the default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-window-'));
  try {
    assert.deepEqual(loadWindowState(dir, DISPLAY), { width: 1280, height: 800, maximized: false });
    saveWindowState(dir, { x: 100, y: 50, width: 1000, height: 700, maximized: true });
    assert.deepEqual(loadWindowState(dir, DISPLAY), { x: 100, y: 50, width: 1000, height: 700, maximized: true });
    // The monitor it was on is gone.
    saveWindowState(dir, { x: 2500, y: 50, width: 1000, height: 700, maximized: false });
    assert.deepEqual(loadWindowState(dir, DISPLAY), { width: 1000, height: 700, maximized: false });
    // Too small is clamped to the minimum; a damaged file is ignored.
    saveWindowState(dir, { x: 0, y: 0, width: 10, height: 10, maximized: false });
    assert.deepEqual(loadWindowState(dir, DISPLAY), { x: 0, y: 0, width: 800, height: 560, maximized: false });
    writeFileSync(join(dir, 'window-state.json'), '{"width": 9');
    assert.deepEqual(loadWindowState(dir, DISPLAY), { width: 1280, height: 800, maximized: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
