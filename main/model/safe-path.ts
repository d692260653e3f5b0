import { isAbsolute, relative, resolve } from 'node:path';
import { ModelImportError } from './errors.ts';

/**
 * Resolves `p` relative to `root` and refuses anything that lands outside it (`../x`, absolute paths):
 * model files name their companion files, and a hostile model must not make us read arbitrary files.
 */
export function resolveInside(root: string, p: string, owner: string): string {
  const full = resolve(root, decodeURIComponent(p));
  const rel = relative(resolve(root), full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || isAbsolute(p)) {
    throw new ModelImportError(owner, `the path "${p}" points outside the model folder ${root}; refusing to read it`);
  }
  return full;
}
