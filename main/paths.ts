/**
 * Where Edgewise keeps its data (history database, artifacts, settings). The CLI and the desktop app share one
 * folder, so this does not use Electron's app.getPath('userData').
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The per-user default data folder for a platform (no environment override, not created). */
export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'Edgewise');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'Edgewise');
  // XDG base directory spec: a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share'), 'edgewise');
}

/** The data folder: `$EDGEWISE_HOME` if set, else the per-user default. Created on demand. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.EDGEWISE_HOME ? resolve(env.EDGEWISE_HOME) : defaultDataDir(process.platform, env);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * The folder holding Edgewise's package.json: the repo root in development, the app folder (or asar) when
 * packaged. Bundled files (samples, the catalog) are found from here, whether the code runs from `main/` (tsx)
 * or from `dist-main/main/` (compiled).
 */
export function appRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'edgewise') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the Edgewise app folder (no package.json named "edgewise" above main/paths)');
    dir = parent;
  }
}
