import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE, LATEST_VERSION, openHistory } from '../../../main/history/index.ts';
import { migrate, migrations } from '../../../main/history/migrations.ts';

test('a v1 database with rows upgrades to the latest schema, data intact, backup written first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-migrate-'));
  try {
    const file = join(dir, DB_FILE);
    const v1 = new Database(file);
    assert.deepEqual(migrate(v1, 1), [1]);
    const t = '2024-05-01T00:00:00.000Z';
    v1.prepare(`INSERT INTO models (id, name, format, path, sha256, created_at) VALUES ('m1', 'mnist', 'keras', '/m.keras', 'ff', ?)`).run(t);
    v1.prepare(`INSERT INTO artifacts (id, sha256, kind, rel_path, size, gzip_size, created_at) VALUES ('a1', 'ee', 'tflite', 'ee/ee.tflite', 10, 8, ?)`).run(t);
    v1.prepare(`INSERT INTO variants (id, model_id, name, recipe_json, artifact_id, created_at) VALUES ('v1', 'm1', 'int8', '{"technique":"int8"}', 'a1', ?)`).run(t);
    v1.prepare(`INSERT INTO metrics (variant_id, name, value, created_at) VALUES ('v1', 'accuracy', 0.97, ?)`).run(t);
    v1.prepare(`INSERT INTO jobs (id, kind, state, created_at, updated_at) VALUES ('j1', 'optimize', 'completed', ?, ?)`).run(t, t);
    assert.equal(v1.pragma('user_version', { simple: true }), 1);
    v1.close();

    const h = openHistory(dir);
    try {
      assert.equal(h.db.pragma('user_version', { simple: true }), LATEST_VERSION);
      assert.ok(LATEST_VERSION >= 2);
      assert.ok(h.backupPath && existsSync(h.backupPath), 'backup file exists');
      assert.match(h.backupPath!, /history\.v1-backup-.*\.sqlite$/);
      const backup = new Database(h.backupPath!, { readonly: true });
      assert.equal(backup.pragma('user_version', { simple: true }), 1);
      assert.equal((backup.prepare('SELECT COUNT(*) n FROM variants').get() as { n: number }).n, 1);
      backup.close();

      const v = h.getVariant('v1');
      assert.equal(v.name, 'int8');
      assert.deepEqual(v.recipe, { technique: 'int8' });
      assert.deepEqual(v.metrics, [{ name: 'accuracy', value: 0.97, datasetId: null }]);
      assert.equal(v.artifact!.size, 10);
      assert.equal(h.getModel('m1').variantCount, 1);
      const job = h.getJob('j1');
      assert.equal(job.attempts, 0);
      assert.equal(job.checkpoint, null);
      // v2 features work on the upgraded data.
      h.putReport('v1', 'compiler', { mapped: 12 });
      assert.deepEqual(h.getReport('v1', 'compiler'), { mapped: 12 });
      assert.equal((h.db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
    } finally {
      h.close();
    }
    // Opening an up-to-date database writes no new backup.
    const before = readdirSync(dir).filter((f) => f.includes('backup')).length;
    openHistory(dir).close();
    assert.equal(readdirSync(dir).filter((f) => f.includes('backup')).length, before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('migrations are numbered 1..N in order', () => {
  assert.deepEqual(migrations.map((m) => m.version), migrations.map((_, i) => i + 1));
});

test('a database from a newer Edgewise is refused with UNSUPPORTED naming the file and both versions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-future-'));
  try {
    const file = join(dir, DB_FILE);
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_VERSION + 5}`);
    db.close();
    assert.throws(() => openHistory(dir), (e: any) => {
      assert.equal(e.code, 'UNSUPPORTED');
      assert.ok(e.message.includes(file), e.message);
      assert.ok(e.message.includes(`version ${LATEST_VERSION + 5}`), e.message);
      assert.ok(e.message.includes(`version ${LATEST_VERSION}`), e.message);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not a database fails with a clear message naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-corrupt-'));
  try {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, DB_FILE), 'this is not sqlite'.repeat(100));
    assert.throws(() => openHistory(dir), (e: any) => e.message.includes(join(dir, DB_FILE)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
