import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { openHistory, type History } from '../../../main/history/index.ts';

function tempHistory(): { h: History; dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-history-'));
  const h = openHistory(dir);
  return { h, dir, done: () => (h.close(), rmSync(dir, { recursive: true, force: true })) };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const model = (h: History, name = 'mnist') =>
  h.addModel({ name, format: 'keras', path: `/models/${name}.keras`, sha256: 'ab'.repeat(32), inputs: [{ name: 'x', shape: [-1, 28, 28, 1] }], parameterCount: 1234 });

test('opens with WAL, foreign keys, NORMAL sync and busy timeout', () => {
  const { h, dir, done } = tempHistory();
  try {
    assert.equal(h.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(h.db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(h.db.pragma('synchronous', { simple: true }), 1); // NORMAL
    assert.equal(h.db.pragma('busy_timeout', { simple: true }), 5000);
    assert.ok(existsSync(join(dir, 'history.sqlite')));
    assert.equal(h.backupPath, null, 'a fresh database needs no backup');
  } finally {
    done();
  }
});

test('models round-trip with variant counts', () => {
  const { h, done } = tempHistory();
  try {
    const m = model(h);
    assert.deepEqual(m.inputs, [{ name: 'x', shape: [-1, 28, 28, 1] }]);
    assert.equal(m.parameterCount, 1234);
    assert.equal(m.variantCount, 0);
    h.addVariant({ modelId: m.id, name: 'fp16', recipe: { technique: 'fp16' } });
    h.addVariant({ modelId: m.id, name: 'int8', recipe: { technique: 'int8' } });
    const other = model(h, 'cifar');
    const list = h.listModels();
    assert.equal(list.total, 2);
    assert.equal(list.items[0].id, other.id, 'newest first');
    assert.equal(list.items.find((x) => x.id === m.id)!.variantCount, 2);
    assert.equal(h.listModels({ search: 'cif' }).items.length, 1);
    assert.equal(h.findModelBySha256('ab'.repeat(32))!.id, other.id);
    assert.throws(() => h.getModel('nope'), { code: 'NOT_FOUND', message: /nope/ });
  } finally {
    done();
  }
});

test('artifacts are content-addressed, durable files with sha256, size and gzip-9 size; deduplicated', () => {
  const { h, dir, done } = tempHistory();
  try {
    const bytes = new Uint8Array(5000).map((_, i) => (i * 7) % 13);
    const a = h.putArtifact(bytes, 'tflite');
    const digest = sha(bytes);
    assert.equal(a.sha256, digest);
    assert.equal(a.path, join(dir, 'artifacts', digest.slice(0, 2), `${digest}.tflite`));
    assert.deepEqual(new Uint8Array(readFileSync(a.path)), bytes);
    assert.equal(a.size, 5000);
    assert.equal(a.gzipSize, gzipSync(bytes, { level: 9 }).length);
    assert.ok(a.gzipSize < a.size);
    // Same content from a path: same row.
    const src = join(dir, 'in.bin');
    writeFileSync(src, bytes);
    assert.equal(h.putArtifact(src, 'tflite').id, a.id);
    assert.equal((h.db.prepare('SELECT COUNT(*) n FROM artifacts').get() as { n: number }).n, 1);
    assert.throws(() => h.putArtifact(join(dir, 'missing.tflite'), 'tflite'), { code: 'NOT_FOUND', message: /missing\.tflite/ });
  } finally {
    done();
  }
});

test('addVariant writes variant, artifact, metrics, benchmark and report together; nothing on failure', () => {
  const { h, done } = tempHistory();
  try {
    const m = model(h);
    const ds = h.addDataset({ kind: 'idx', location: '/data/mnist', sampleCount: 100, preprocessing: { scale: '0..1' } });
    const v = h.addVariant({
      modelId: m.id,
      name: 'int8 ptq',
      recipe: { technique: 'int8', calibration: 100 },
      artifact: { source: new Uint8Array([1, 2, 3, 4]), kind: 'tflite' },
      metrics: [{ name: 'accuracy', value: 0.98, datasetId: ds.id }],
      benchmarks: [{ runtime: 'tflite-wasm', coldMs: 9, warmMinMs: 1, warmP50Ms: 1.5, warmP90Ms: 2, warmP99Ms: 3, runs: 50, environment: { cpu: 'x' } }],
      reports: { sensitivity: { layers: [{ name: 'conv', drop: 0.01 }] } },
    });
    assert.equal(v.artifact!.size, 4);
    assert.deepEqual(v.metrics, [{ name: 'accuracy', value: 0.98, datasetId: ds.id }]);
    const d = h.getVariantDetail(v.id);
    assert.equal(d.benchmarks[0].warmP50Ms, 1.5);
    assert.deepEqual(d.benchmarks[0].environment, { cpu: 'x' });
    assert.deepEqual(d.reportKinds, ['sensitivity']);
    assert.deepEqual(h.getReport(v.id, 'sensitivity'), { layers: [{ name: 'conv', drop: 0.01 }] });

    // A benchmark row that violates a constraint (runs NULL) rolls back the whole variant.
    const before = h.listVariants().total;
    assert.throws(() =>
      h.addVariant({ modelId: m.id, name: 'broken', metrics: [{ name: 'accuracy', value: 0.5 }], benchmarks: [{ runtime: 'x', runs: null } as never] }),
    );
    assert.equal(h.listVariants().total, before);
    assert.equal((h.db.prepare('SELECT COUNT(*) n FROM metrics').get() as { n: number }).n, 1);
    assert.throws(() => h.addVariant({ modelId: m.id, name: 'nan', metrics: [{ name: 'accuracy', value: NaN }] }), {
      code: 'INVALID_ARGUMENT',
      message: /accuracy.*nan/,
    });
    assert.throws(() => h.addVariant({ modelId: 'missing', name: 'x' }), { code: 'NOT_FOUND' });
    assert.throws(() => h.addVariant({ modelId: m.id, parentId: 'missing', name: 'x' }), { code: 'NOT_FOUND', message: /missing/ });
  } finally {
    done();
  }
});

test('lineage walks ancestors to the model; variantTree gives the descendant forest', () => {
  const { h, done } = tempHistory();
  try {
    const m = model(h);
    const pruned = h.addVariant({ modelId: m.id, name: 'pruned 50%' });
    const clustered = h.addVariant({ modelId: m.id, parentId: pruned.id, name: 'clustered 16' });
    const int8 = h.addVariant({ modelId: m.id, parentId: clustered.id, name: 'int8' });
    const fp16 = h.addVariant({ modelId: m.id, name: 'fp16' });
    assert.deepEqual(h.lineage(int8.id).map((v) => v.name), ['pruned 50%', 'clustered 16']);
    assert.deepEqual(h.lineage(pruned.id), []);
    assert.deepEqual(h.getVariantWithLineage(int8.id).lineage.map((v) => v.id), [pruned.id, clustered.id]);
    const tree = h.variantTree(m.id);
    assert.deepEqual(tree.map((n) => n.name), ['pruned 50%', 'fp16']);
    assert.equal(tree[0].children[0].children[0].id, int8.id);
    assert.equal(tree[1].id, fp16.id);
    const other = model(h, 'other');
    assert.throws(() => h.addVariant({ modelId: other.id, parentId: pruned.id, name: 'x' }), { code: 'INVALID_ARGUMENT' });
  } finally {
    done();
  }
});

test('listVariants searches name and recipe, sorts by created/name/size and pages', () => {
  const { h, done } = tempHistory();
  try {
    const m = model(h);
    const sizes = [300, 100, 200];
    const names = ['b-int8', 'a-fp16', 'c-dynamic'];
    for (let i = 0; i < 3; i++) {
      h.addVariant({ modelId: m.id, name: names[i], recipe: { technique: names[i].slice(2), note: i === 2 ? '50%_off' : '' }, artifact: { source: new Uint8Array(sizes[i]).fill(i + 1), kind: 'tflite' } });
    }
    assert.deepEqual(h.listVariants().items.map((v) => v.name), ['c-dynamic', 'a-fp16', 'b-int8'], 'newest first');
    assert.deepEqual(h.listVariants({ sort: 'name' }).items.map((v) => v.name), ['a-fp16', 'b-int8', 'c-dynamic']);
    assert.deepEqual(h.listVariants({ sort: 'size', order: 'asc' }).items.map((v) => v.artifact!.size), [100, 200, 300]);
    assert.deepEqual(h.listVariants({ search: 'fp16' }).items.map((v) => v.name), ['a-fp16']);
    assert.deepEqual(h.listVariants({ search: 'dynamic' }).total, 1);
    // LIKE wildcards in the search are literal.
    assert.deepEqual(h.listVariants({ search: '50%_' }).items.map((v) => v.name), ['c-dynamic']);
    assert.equal(h.listVariants({ search: '%' }).total, 1);
    const p = h.listVariants({ sort: 'name', limit: 2, offset: 1 });
    assert.equal(p.total, 3);
    assert.deepEqual(p.items.map((v) => v.name), ['b-int8', 'c-dynamic']);
    assert.equal(h.listVariants({ modelId: 'other' }).total, 0);
  } finally {
    done();
  }
});

test('bestVariant picks by size, latency or accuracy under an accuracy-drop constraint', () => {
  const { h, done } = tempHistory();
  try {
    const m = model(h);
    const bench = (p50: number) => ({ runtime: 'tflite-wasm', warmMinMs: p50, warmP50Ms: p50, warmP90Ms: p50, warmP99Ms: p50, runs: 10 });
    const add = (name: string, size: number, acc: number, p50: number) =>
      h.addVariant({ modelId: m.id, name, artifact: { source: new Uint8Array(size).fill(size % 251), kind: 'tflite' }, metrics: [{ name: 'accuracy', value: acc }], benchmarks: [bench(p50)] });
    add('float', 400, 0.99, 8);
    add('fp16', 200, 0.99, 7);
    const int8 = add('int8', 100, 0.985, 3);
    const clustered = add('clustered int8', 80, 0.95, 3.5);
    assert.equal(h.bestVariant({ modelId: m.id, goal: 'size' })!.variant.id, clustered.id);
    const best = h.bestVariant({ modelId: m.id, goal: 'size', maxAccuracyDrop: 0.01 })!;
    assert.equal(best.variant.id, int8.id);
    assert.equal(best.baselineAccuracy, 0.99);
    assert.equal(best.size, 100);
    assert.equal(h.bestVariant({ modelId: m.id, goal: 'latency' })!.variant.name, 'int8');
    assert.equal(h.bestVariant({ modelId: m.id, goal: 'accuracy', maxSizeBytes: 250 })!.variant.name, 'fp16');
    assert.equal(h.bestVariant({ modelId: m.id, goal: 'size', maxAccuracyDrop: 0.01, baselineAccuracy: 1.02 }), null);
    assert.equal(h.bestVariant({ modelId: m.id, goal: 'latency', runtime: 'edgetpu' }), null);
  } finally {
    done();
  }
});

test('deleteVariant removes rows and now-unreferenced artifact files, keeps shared ones, refuses with children', () => {
  const { h, done } = tempHistory();
  try {
    const m = model(h);
    const shared = new Uint8Array([9, 9, 9]);
    const a = h.addVariant({ modelId: m.id, name: 'a', artifact: { source: shared, kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 1 }] });
    const b = h.addVariant({ modelId: m.id, name: 'b', artifact: { source: shared, kind: 'tflite' } });
    const child = h.addVariant({ modelId: m.id, parentId: a.id, name: 'child', artifact: { source: new Uint8Array([1]), kind: 'tflite' } });
    assert.equal(a.artifact!.path, b.artifact!.path);
    assert.throws(() => h.deleteVariant(a.id), { code: 'CONFLICT', message: /1 derived/ });
    const r = h.deleteVariant(a.id, { withDescendants: true });
    assert.deepEqual(new Set(r.deletedVariants), new Set([a.id, child.id]));
    assert.equal(r.deletedArtifacts.length, 1, 'only the child artifact was unreferenced');
    assert.ok(!existsSync(child.artifact!.path));
    assert.ok(existsSync(b.artifact!.path), 'shared artifact kept for b');
    assert.equal((h.db.prepare('SELECT COUNT(*) n FROM metrics').get() as { n: number }).n, 0);
    h.deleteVariant(b.id);
    assert.ok(!existsSync(b.artifact!.path));
    assert.equal((h.db.prepare('SELECT COUNT(*) n FROM artifacts').get() as { n: number }).n, 0);
    assert.throws(() => h.getVariant(b.id), { code: 'NOT_FOUND' });
    h.addVariant({ modelId: m.id, name: 'c', artifact: { source: new Uint8Array([5]), kind: 'tflite' } });
    assert.equal(h.deleteModel(m.id).deletedVariants.length, 1);
    assert.equal(h.listModels().total, 0);
  } finally {
    done();
  }
});

test('collectGarbage removes old orphan and temp files, keeps referenced and fresh ones', () => {
  const { h, dir, done } = tempHistory();
  try {
    const kept = h.putArtifact(new Uint8Array([1, 2, 3]), 'tflite');
    const orphanSha = 'cd'.repeat(32);
    mkdirSync(join(dir, 'artifacts', 'cd'), { recursive: true });
    const orphan = join(dir, 'artifacts', 'cd', `${orphanSha}.tflite`);
    const temp = join(dir, 'artifacts', 'cd', `.${orphanSha}.1234.tmp`);
    const fresh = join(dir, 'artifacts', 'cd', `${'ce'.repeat(32)}.tflite`);
    for (const f of [orphan, temp, fresh]) writeFileSync(f, 'xx');
    const old = new Date(Date.now() - 3600_000);
    for (const f of [orphan, temp, kept.path]) utimesSync(f, old, old);
    const r = h.collectGarbage();
    assert.deepEqual(r.removedFiles.sort(), [`cd/.${orphanSha}.1234.tmp`, `cd/${orphanSha}.tflite`]);
    assert.equal(r.freedBytes, 4);
    assert.ok(existsSync(kept.path) && existsSync(fresh));
    assert.ok(!existsSync(orphan) && !existsSync(temp));
  } finally {
    done();
  }
});

test('devices are upserted by serial (or kind + port) with first/last seen', async () => {
  const { h, done } = tempHistory();
  try {
    const d1 = h.recordDevice({ kind: 'coral-usb', serial: 'S1', portPath: '1-2', vendorId: 0x1a6e, productId: 0x089a, firmwareState: 'needs-firmware' });
    await new Promise((r) => setTimeout(r, 5));
    const d2 = h.recordDevice({ kind: 'coral-usb', serial: 'S1', portPath: '1-3', vendorId: 0x18d1, productId: 0x9302, firmwareState: 'ready', linkSpeed: 'super' });
    assert.equal(d2.id, d1.id);
    assert.equal(d2.firstSeen, d1.firstSeen);
    assert.ok(d2.lastSeen > d1.lastSeen);
    assert.equal(d2.firmwareState, 'ready');
    const d3 = h.recordDevice({ kind: 'coral-usb', portPath: '2-1' });
    assert.equal(h.recordDevice({ kind: 'coral-usb', portPath: '2-1', linkSpeed: 'high' }).id, d3.id);
    assert.equal(h.listDevices().length, 2);
    const v = h.addVariant({ modelId: model(h).id, name: 'edgetpu' });
    assert.equal(h.addBenchmark(v.id, { runtime: 'edgetpu', deviceId: d1.id, warmMinMs: 1, warmP50Ms: 1, warmP90Ms: 1, warmP99Ms: 1, runs: 5 }).deviceId, d1.id);
  } finally {
    done();
  }
});

test('jobs: create, patch, list by state, stale ones become interrupted', () => {
  const { h, done } = tempHistory();
  try {
    const j = h.createJob('optimize', { recipe: 'int8' });
    assert.equal(j.state, 'queued');
    const lines = Array.from({ length: 80 }, (_, i) => `line ${i}`);
    const u = h.updateJob(j.id, { state: 'running', stage: 'calibrate', progress: 1.5, logTail: lines, heartbeat: true, checkpoint: { step: 3 } });
    assert.equal(u.progress, 1, 'clamped');
    assert.equal(u.logTail.length, 50);
    assert.equal(u.logTail[49], 'line 79');
    assert.deepEqual(u.checkpoint, { step: 3 });
    assert.ok(u.heartbeatAt);
    const done2 = h.createJob('benchmark', {});
    h.updateJob(done2.id, { state: 'completed', result: { variantIds: ['x'] } });
    assert.deepEqual(h.listJobs({ states: ['completed'] }).map((x) => x.id), [done2.id]);
    assert.equal(h.listJobs().length, 2);
    assert.deepEqual(h.interruptStaleJobs(new Date(Date.now() - 60_000)), [], 'fresh heartbeat is not stale');
    const stale = h.interruptStaleJobs(new Date(Date.now() + 1000));
    assert.deepEqual(stale.map((x) => x.id), [j.id]);
    assert.equal(h.getJob(j.id).state, 'interrupted');
    assert.equal(h.getJob(done2.id).state, 'completed');
  } finally {
    done();
  }
});

test('list queries stay fast with 10,000 variants', () => {
  const { h, done } = tempHistory();
  try {
    const m = model(h);
    const t0 = new Date('2024-01-01').getTime();
    h.transaction(() => {
      const art = h.db.prepare('INSERT INTO artifacts (id, sha256, kind, rel_path, size, gzip_size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
      const va = h.db.prepare('INSERT INTO variants (id, model_id, parent_id, name, recipe_json, status, artifact_id, created_at) VALUES (?, ?, NULL, ?, ?, ?, ?, ?)');
      const me = h.db.prepare('INSERT INTO metrics (variant_id, name, value, created_at) VALUES (?, ?, ?, ?)');
      for (let i = 0; i < 10_000; i++) {
        const at = new Date(t0 + i * 1000).toISOString();
        art.run(`a${i}`, i.toString(16).padStart(64, '0'), 'tflite', `x/${i}.tflite`, (i * 7919) % 100_000, 1, at);
        va.run(`v${i}`, m.id, `variant ${i} ${['int8', 'fp16', 'dyn'][i % 3]}`, JSON.stringify({ technique: ['int8', 'fp16', 'dyn'][i % 3], sparsity: (i % 10) / 10 }), 'ready', `a${i}`, at);
        me.run(`v${i}`, 'accuracy', 0.9 + (i % 100) / 1000, at);
      }
    });
    const time = (fn: () => unknown) => {
      const s = performance.now();
      fn();
      return performance.now() - s;
    };
    const timings = {
      created: time(() => h.listVariants({ limit: 50 })),
      name: time(() => h.listVariants({ sort: 'name', limit: 50, offset: 5000 })),
      size: time(() => h.listVariants({ sort: 'size', modelId: m.id, limit: 50 })),
      search: time(() => h.listVariants({ search: 'sparsity":0.5', limit: 50 })),
      models: time(() => h.listModels()),
      best: time(() => h.bestVariant({ modelId: m.id, goal: 'size', maxAccuracyDrop: 0.05 })),
    };
    assert.equal(h.listVariants({ search: 'sparsity":0.5' }).total, 1000);
    assert.equal(h.listModels().items[0].variantCount, 10_000);
    assert.equal(h.listVariants({ sort: 'size', order: 'asc', limit: 1 }).items[0].artifact!.size, 0);
    for (const [k, ms] of Object.entries(timings)) assert.ok(ms < 300, `${k} took ${ms.toFixed(1)} ms`);
    console.log('10k variants, ms:', Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, +v.toFixed(1)])));
  } finally {
    done();
  }
});
