import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHistory } from '../../main/history/index.ts';

const CHILD = new URL('./history-durability.child.ts', import.meta.url).pathname;
const KILLS = 20;

/** Starts the child, SIGKILLs it a random moment after it is ready, and returns the ids it reported committed. */
function runAndKill(dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ids: string[] = [];
    let buf = '';
    let stderr = '';
    let armed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('committed ')) ids.push(line.slice(10));
        if (line === 'ready' && !armed) {
          armed = true;
          setTimeout(() => child.kill('SIGKILL'), Math.random() * 250);
        }
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (code ${code}): ${stderr}`));
      else resolve(ids);
    });
  });
}

test(`history survives ${KILLS} SIGKILLs mid-write: integrity ok, every reported commit present, every artifact file whole`, { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-durability-'));
  const committed: string[] = [];
  try {
    for (let k = 0; k < KILLS; k++) {
      committed.push(...(await runAndKill(dir)));
      const h = openHistory(dir);
      try {
        assert.equal((h.db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok', `after kill ${k + 1}`);
        assert.equal((h.db.pragma('foreign_key_check') as unknown[]).length, 0, `after kill ${k + 1}`);
        const present = new Set((h.db.prepare('SELECT id FROM variants').all() as { id: string }[]).map((r) => r.id));
        for (const id of committed) assert.ok(present.has(id), `reported variant ${id} lost after kill ${k + 1}`);
        for (const a of h.db.prepare('SELECT id FROM artifacts').all() as { id: string }[]) {
          const art = h.getArtifact(a.id);
          assert.ok(existsSync(art.path), `artifact file missing: ${art.path}`);
          assert.equal(statSync(art.path).size, art.size, `artifact size: ${art.path}`);
          assert.equal(createHash('sha256').update(readFileSync(art.path)).digest('hex'), art.sha256, `artifact hash: ${art.path}`);
        }
        // Every committed variant came with its metric and benchmark (one transaction).
        const partial = h.db
          .prepare('SELECT COUNT(*) n FROM variants v WHERE NOT EXISTS (SELECT 1 FROM metrics m WHERE m.variant_id = v.id) OR NOT EXISTS (SELECT 1 FROM benchmarks b WHERE b.variant_id = v.id)')
          .get() as { n: number };
        assert.equal(partial.n, 0, 'half-written variant');
      } finally {
        h.close();
      }
    }
    assert.ok(committed.length > KILLS, `the children committed ${committed.length} variants`);
    console.log(`durability: ${KILLS} kills, ${committed.length} reported commits, all present`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('several processes opening a fresh history at once all succeed (each migration applied once)', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-concurrent-open-'));
  const HISTORY = new URL('../../main/history/index.ts', import.meta.url).href;
  const script = `import { openHistory } from ${JSON.stringify(HISTORY)};
    const h = openHistory(process.argv[1]);
    h.addModel({ name: 'p' + process.pid, format: 'tflite', path: '/x', sha256: '00' });
    h.close();`;
  try {
    const runs = Array.from({ length: 4 }, () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => resolve(code === 0 ? '' : err || `exit ${code}`));
      }),
    );
    assert.deepEqual(await Promise.all(runs), ['', '', '', '']);
    const h = openHistory(dir);
    try {
      assert.equal(h.listModels().total, 4);
    } finally {
      h.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
