// Launches the real Electron shell (built main + preload + renderer) when an Electron binary is present:
// ELECTRON_OVERRIDE_DIST_PATH set, or node_modules/electron/dist/electron downloaded. Otherwise skipped with
// the reason — the offline development machine has no Electron binary (docs/app.md).
import { test, expect, _electron as electron } from '@playwright/test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
const executable = override ? join(override, 'electron') : join(ROOT, 'node_modules/electron/dist/electron');
const built = existsSync(join(ROOT, 'dist-main/main/app/main.js')) && existsSync(join(ROOT, 'dist-main/preload/preload.cjs'));

test('the Electron shell opens a sandboxed window with the API bridge', async () => {
  test.skip(!existsSync(executable), `No Electron binary at ${executable} (set ELECTRON_OVERRIDE_DIST_PATH or download Electron).`);
  test.skip(!built, 'The main process is not built: run `npm run build` first.');
  const home = mkdtempSync(join(tmpdir(), 'edgewise-electron-'));
  const env = { ...process.env, EDGEWISE_HOME: home };
  delete env.ELECTRON_RUN_AS_NODE; // a leftover value makes Electron behave as plain Node and never open a window
  const app = await electron.launch({ executablePath: executable, args: ['.', '--no-sandbox'], cwd: ROOT, env, timeout: 30_000 });
  try {
    const page = await app.firstWindow();
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
    // The preload exposed exactly the contract; Node is not reachable from the page.
    expect(await page.evaluate(() => Object.keys(window.edgewise ?? {}).sort())).toEqual(['invoke', 'onEvent']);
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    const result = await page.evaluate(() => window.edgewise!.invoke('history.listModels', {}));
    expect(result).toEqual({ ok: true, value: { items: [], total: 0 } });
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const wp = BrowserWindow.getAllWindows()[0]!.webContents.getLastWebPreferences();
      return { contextIsolation: wp?.contextIsolation, sandbox: wp?.sandbox, nodeIntegration: wp?.nodeIntegration };
    });
    expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false });
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }
});
