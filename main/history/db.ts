/**
 * Opening the history database: pragmas, the future-schema guard, a backup before migrating, then migrations.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { appRoot } from '../paths.ts';
import { LATEST_VERSION, migrate } from './migrations.ts';
import { HistoryError } from './types.ts';

export const DB_FILE = 'history.sqlite';

export interface OpenedDatabase {
  db: Database.Database;
  /** The backup written before migrating, if one was needed. */
  backupPath: string | null;
  migratedFrom: number;
}

/** Pragmas every connection needs (each connection has its own foreign_keys/busy_timeout/synchronous). */
export function configureConnection(db: Database.Database): void {
  // The app and the CLI (and job workers) may write at the same time; wait instead of failing with SQLITE_BUSY.
  // First, because switching to WAL itself needs a lock another process may hold.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  // WAL + NORMAL: a commit survives a killed process (the WAL is written before commit returns) but the last
  // commits may be lost on power loss/OS crash; FULL would fsync on every commit. See docs/history.md.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
}

/**
 * Inside Electron during development (`npm start`), better-sqlite3 must be the copy built for Electron's ABI by
 * scripts/electron-native.js; node_modules keeps the Node build for tests and the CLI. Packaged apps are rebuilt
 * for Electron in place (electron-builder install-app-deps), so no override is needed there.
 */
function electronBinding(): string | undefined {
  if (!process.versions.electron) return undefined;
  const candidate = join(appRoot(), '.electron-native', 'better_sqlite3.node');
  return existsSync(candidate) ? candidate : undefined;
}

export function openDatabase(file: string): OpenedDatabase {
  let db: Database.Database;
  try {
    db = new Database(file, electronBinding() ? { nativeBinding: electronBinding() } : {});
  } catch (e) {
    throw new HistoryError('INTERNAL', `Cannot open the history database ${file}: ${(e as Error).message}`);
  }
  try {
    configureConnection(db);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > LATEST_VERSION) {
      throw new HistoryError(
        'UNSUPPORTED',
        `The history database ${file} has schema version ${version}, but this Edgewise only knows up to version ${LATEST_VERSION}.`,
        'It was written by a newer Edgewise: update Edgewise, or point EDGEWISE_HOME at another folder.',
      );
    }
    let backupPath: string | null = null;
    if (version < LATEST_VERSION && hasTables(db)) {
      backupPath = join(dirname(file), `${basename(file, '.sqlite')}.v${version}-backup-${stamp()}.sqlite`);
      // VACUUM INTO writes a consistent, compact copy synchronously (db.backup() is async).
      db.prepare('VACUUM INTO ?').run(backupPath);
    }
    migrate(db);
    return { db, backupPath, migratedFrom: version };
  } catch (e) {
    db.close();
    if (e instanceof HistoryError) throw e;
    throw new HistoryError(
      'INTERNAL',
      `Cannot use the history database ${file}: ${(e as Error).message}`,
      'If the file is damaged, move it away (Edgewise starts a new history) and restore a backup from the same folder.',
    );
  }
}

function hasTables(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' LIMIT 1").get() !== undefined;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}
