/**
 * Where Edgewise keeps its data (history database, artifacts, settings). The CLI and the desktop app share one
 * folder, so this does not use Electron's app.getPath('userData').
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

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
