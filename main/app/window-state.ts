/**
 * Remembers the main window's size and position in `<dataDir>/window-state.json`. A saved position that no
 * longer lies on any display (a monitor was unplugged) is dropped so the window never opens off-screen.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const DEFAULT_STATE: WindowState = { width: 1280, height: 800, maximized: false };
const MIN = { width: 800, height: 560 };

function stateFile(dataDir: string): string {
  return join(dataDir, 'window-state.json');
}

/** The saved state, sanitized against the current displays' work areas; the default when absent or damaged. */
export function loadWindowState(dataDir: string, displays: Rect[]): WindowState {
  let saved: Partial<WindowState>;
  try {
    saved = JSON.parse(readFileSync(stateFile(dataDir), 'utf8')) as Partial<WindowState>;
  } catch {
    return { ...DEFAULT_STATE };
  }
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const width = num(saved.width) ? Math.max(MIN.width, Math.round(saved.width)) : DEFAULT_STATE.width;
  const height = num(saved.height) ? Math.max(MIN.height, Math.round(saved.height)) : DEFAULT_STATE.height;
  const state: WindowState = { width, height, maximized: saved.maximized === true };
  if (num(saved.x) && num(saved.y)) {
    const { x, y } = saved;
    // Keep the position only when the title bar area is visible on some display.
    const visible = displays.some((d) => x + 100 > d.x && x < d.x + d.width - 100 && y >= d.y && y < d.y + d.height - 50);
    if (visible) Object.assign(state, { x: Math.round(x), y: Math.round(y) });
  }
  return state;
}

export function saveWindowState(dataDir: string, state: WindowState): void {
  const file = stateFile(dataDir);
  // Write-then-rename so a crash mid-write leaves the old file, not half a JSON.
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file);
}
