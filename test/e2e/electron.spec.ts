// Launches the real Electron shell (built main + preload + renderer) when an Electron binary is present:
// ELECTRON_OVERRIDE_DIST_PATH set, or node_modules/electron/dist/electron downloaded. Otherwise skipped with
// the reason — the offline development machine has no Electron binary (docs/app.md).
import { test, expect, _electron as electron } from '@playwright/test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PageGlobals } from './app.page.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
const executable = override ? join(override, 'electron') : join(ROOT, 'node_modules/electron/dist/electron');
const built = existsSync(join(ROOT, 'dist-main/main/app/main.js')) && existsSync(join(ROOT, 'dist-main/preload/preload.cjs'));

test('the Electron shell opens a sandboxed window with the API bridge', async () => {
  test.skip(!existsSync(executable), `No Electron binary at ${executable} (set ELECTRON_OVERRIDE_DIST_PATH or download Electron).`);
  test.skip(!built, 'The main process is not built: run `npm run build` first.');
  const home = mkdtempSync(join(tmpdir(), 'edgewise-electron-'));
  // A leftover ELECTRON_RUN_AS_NODE makes Electron behave as plain Node and never open a window.
  const inherited = Object.entries(process.env).filter(([key, value]) => value !== undefined && key !== 'ELECTRON_RUN_AS_NODE');
  const env = { ...(Object.fromEntries(inherited) as Record<string, string>), EDGEWISE_HOME: home };
  const app = await electron.launch({ executablePath: executable, args: ['.', '--no-sandbox'], cwd: ROOT, env, timeout: 30_000 });
  try {
    const page = await app.firstWindow();
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
    // The preload exposed exactly the contract; Node is not reachable from the page.
    expect(await page.evaluate(() => Object.keys((globalThis as PageGlobals).edgewise ?? {}).sort())).toEqual(['invoke', 'onEvent']);
    expect(await page.evaluate(() => [typeof (globalThis as { require?: unknown }).require, typeof (globalThis as { process?: unknown }).process])).toEqual(['undefined', 'undefined']);
    const result = await page.evaluate(() => (globalThis as PageGlobals).edgewise!.invoke('history.listModels', {}));
    expect(result).toEqual({ ok: true, value: { items: [], total: 0 } });
    // Navigation away from the app is refused by the shell.
    await page.evaluate(() => (globalThis as unknown as { location: { href: string } }).location.href = 'https://example.invalid/');
    expect(page.url()).toMatch(/^file:.*dist-renderer\/index\.html/);
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }
});
