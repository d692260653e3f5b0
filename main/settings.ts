/**
 * User settings: `<dataDir>/settings.json`, validated with zod, written atomically (temp file + rename).
 *
 * The data folder itself is chosen by `EDGEWISE_HOME` (main/paths.ts) before this file can be read, so it is
 * deliberately not a setting: a setting stored inside the folder cannot say where the folder is. Window size and
 * position are remembered by the shell in `<dataDir>/window-state.json` (main/app/window-state.ts), not here.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Settings } from '../preload/contract.ts';
import { DEFAULT_CALIBRATION_METHOD } from './optimize/recipe.ts';

export const SETTINGS_FILE = 'settings.json';

export const settingsSchema = z.strictObject({
  version: z.literal(1),
  computeBackend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']),
  threads: z.number().int().min(1).max(256).nullable(),
  defaultCalibrationMethod: z.enum(['minmax', 'percentile', 'mse', 'kl']),
  maxAccuracyDropPoints: z.number().min(0).max(100),
  defaultGoal: z.enum(['size', 'cpu-speed', 'edgetpu', 'custom']),
});

/** The fields `settings.set` may change (everything but the version). */
export const settingsPatchSchema = settingsSchema.omit({ version: true }).partial();

export const DEFAULT_SETTINGS: Settings = {
  version: 1,
  computeBackend: 'auto',
  threads: null,
  defaultCalibrationMethod: DEFAULT_CALIBRATION_METHOD,
  maxAccuracyDropPoints: 1,
  defaultGoal: 'size',
};

export class SettingsError extends Error {
  readonly code = 'INVALID_ARGUMENT';
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/**
 * The stored settings merged over the defaults. A missing file gives the defaults; a damaged file (bad JSON or
 * bad values) is an error naming the file, so a typo made by hand is not silently thrown away.
 */
export function loadSettings(dir: string): Settings {
  const file = join(dir, SETTINGS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ...DEFAULT_SETTINGS };
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SettingsError(`${file} is not valid JSON: ${(e as Error).message}`, 'Fix the file by hand or delete it to go back to the defaults.');
  }
  const r = settingsSchema.safeParse({ ...DEFAULT_SETTINGS, ...(typeof json === 'object' && json !== null ? json : {}) });
  if (!r.success) throw new SettingsError(`${file}: ${describe(r.error)}`, 'Fix the value by hand or delete the file to go back to the defaults.');
  return r.data;
}

/** Validates and merges a patch into the stored settings; returns what was saved. */
export function saveSettings(dir: string, patch: Partial<Omit<Settings, 'version'>>): Settings {
  const p = settingsPatchSchema.safeParse(patch);
  if (!p.success) throw new SettingsError(`settings: ${describe(p.error)}`);
  const next = settingsSchema.parse({ ...loadSettings(dir), ...p.data });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, SETTINGS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(tmp, file); // readers never see a half-written file
  return next;
}
