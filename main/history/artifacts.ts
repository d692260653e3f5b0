/**
 * The content-addressed artifact store: files live at `<root>/<sha256[0..2]>/<sha256>.<ext>`. Writing a file
 * is crash-safe: temp file in the same folder → fsync → rename into place → fsync the folder. Only after that
 * may a database row point at it, so a row never names a missing or partial file (a crash can at worst leave an
 * orphan file, which `sweepTempFiles`/`removeArtifactFile` clean up).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HistoryError, type ArtifactSource } from './types.ts';
import { gzippedSize } from '../sizes.ts';

export interface StoredFile {
  sha256: string;
  size: number;
  gzipSize: number;
  /** Path relative to the store root. */
  relPath: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function artifactRelPath(sha256: string, ext: string): string {
  return `${sha256.slice(0, 2)}/${sha256}.${ext}`;
}

function readSource(source: ArtifactSource): Uint8Array {
  if (typeof source !== 'string') return source;
  try {
    return readFileSync(source);
  } catch (e) {
    throw new HistoryError('NOT_FOUND', `Cannot read artifact file ${source}: ${(e as Error).message}`);
  }
}

/** fsync a folder so a rename inside it survives power loss. Windows cannot open folders for fsync. */
function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes bytes (or a file's content) into the store under its sha256 and returns what the database row needs.
 * Idempotent: an existing file with the same hash and size is kept.
 */
export function writeArtifactFile(root: string, source: ArtifactSource, ext = 'tflite'): StoredFile {
  if (!/^[a-z0-9][a-z0-9._-]{0,15}$/i.test(ext)) throw new HistoryError('INVALID_ARGUMENT', `Bad artifact extension "${ext}"`);
  const bytes = readSource(source);
  const sha256 = sha256Hex(bytes);
  const gzipSize = gzippedSize(bytes);
  const relPath = artifactRelPath(sha256, ext);
  const finalPath = join(root, relPath);
  if (existsSync(finalPath) && statSync(finalPath).size === bytes.length) {
    return { sha256, size: bytes.length, gzipSize, relPath };
  }
  const dir = dirname(finalPath);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${sha256}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, finalPath);
  fsyncDir(dir);
  return { sha256, size: bytes.length, gzipSize, relPath };
}

export function removeArtifactFile(root: string, relPath: string): void {
  try {
    unlinkSync(join(root, relPath));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/**
 * Deletes temp files left by a crash in the middle of writeArtifactFile. Only old ones: another process (the
 * CLI next to the app) may be writing a fresh one right now. Returns how many were removed.
 */
export function sweepTempFiles(root: string, olderThanMs = 10 * 60_000): number {
  if (!existsSync(root)) return 0;
  let removed = 0;
  for (const sub of readdirSync(root, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const name of readdirSync(join(root, sub.name))) {
      if (!name.startsWith('.') || !name.endsWith('.tmp')) continue;
      if (Date.now() - statSync(join(root, sub.name, name)).mtimeMs >= olderThanMs) {
        removeArtifactFile(root, join(sub.name, name));
        removed++;
      }
    }
  }
  return removed;
}

export interface StoreEntry {
  relPath: string;
  /** The sha256 the file name claims (content-addressed names), or null for temp files. */
  sha256: string | null;
  size: number;
  mtimeMs: number;
}

/** Every file in the store (temp files included), for garbage collection. */
export function listStoreFiles(root: string): StoreEntry[] {
  if (!existsSync(root)) return [];
  const out: StoreEntry[] = [];
  for (const sub of readdirSync(root, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const name of readdirSync(join(root, sub.name))) {
      const relPath = `${sub.name}/${name}`;
      const st = statSync(join(root, relPath));
      const m = /^([0-9a-f]{64})\./.exec(name);
      out.push({ relPath, sha256: m ? m[1] : null, size: st.size, mtimeMs: st.mtimeMs });
    }
  }
  return out;
}
