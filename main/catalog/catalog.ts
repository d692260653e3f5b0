/**
 * The catalog of hosted pre-optimized models (`catalog.json`, versioned). Figures are published ones, each
 * with its source; unknown fields are null or empty, never guessed. Loaded and validated once per process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../paths.ts';
import { z } from 'zod';
import type { CatalogModel } from '../../preload/contract.ts';

export const CATALOG_VERSION = 1;
const CATALOG_FILE = join(appRoot(), 'main', 'catalog', 'catalog.json');

const figure = z.strictObject({ value: z.number(), unit: z.string().min(1), setting: z.string().min(1), source: z.string().min(1) });
const entry = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
  name: z.string().min(1),
  task: z.enum(['classification', 'detection', 'segmentation']),
  description: z.string().min(1),
  target: z.enum(['edgetpu', 'cpu']),
  input: z.strictObject({ width: z.number().int().positive(), height: z.number().int().positive(), channels: z.number().int().positive(), dtype: z.string() }),
  // A bare file name: it becomes a path under the download folder.
  fileName: z.string().regex(/^[A-Za-z0-9._-]+$/).refine((n) => n !== '.' && n !== '..'),
  url: z.url({ protocol: /^https?$/ }),
  sizeBytes: z.number().int().positive().nullable(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  licence: z.string().min(1),
  publishedSize: z.array(figure),
  accuracy: z.array(figure),
  latency: z.array(figure),
  notes: z.string().optional(),
});
export const catalogSchema = z.strictObject({ version: z.number().int(), source: z.string().optional(), models: z.array(entry) });

export interface Catalog {
  version: number;
  models: CatalogModel[];
}

/** Parses and checks a catalog document; errors name the file and the field. */
export function parseCatalog(json: unknown, where = 'catalog.json'): Catalog {
  const r = catalogSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`${where}: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  if (r.data.version !== CATALOG_VERSION) throw new Error(`${where}: version ${r.data.version} is not supported (expected ${CATALOG_VERSION})`);
  const ids = new Set<string>();
  for (const m of r.data.models) {
    if (ids.has(m.id)) throw new Error(`${where}: duplicate model id "${m.id}"`);
    ids.add(m.id);
  }
  return { version: r.data.version, models: r.data.models };
}

let cached: Catalog | null = null;

export function loadCatalog(): Catalog {
  cached ??= parseCatalog(JSON.parse(readFileSync(CATALOG_FILE, 'utf8')), CATALOG_FILE);
  return cached;
}

export function catalogEntry(id: string): CatalogModel {
  const m = loadCatalog().models.find((x) => x.id === id);
  if (!m) {
    throw Object.assign(new Error(`No model "${id}" in the catalog`), { code: 'NOT_FOUND', hint: 'catalog.list shows the available ids.' });
  }
  return m;
}
