import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobProgressEvent, JobState } from '../../../preload/contract.ts';
import { openHistory, type History } from '../../../main/history/index.ts';
import { JobRunner, type JobRunnerOptions } from '../../../main/jobs/index.ts';

const TEST_JOB = new URL('./workers/test-job.ts', import.meta.url);
const CRASH_CHILD = new URL('./crash-child.ts', import.meta.url).pathname;

function setup(opts: Partial<JobRunnerOptions> = {}): { h: History; runner: JobRunner; events: JobProgressEvent[]; dir: string; done: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-jobs-'));
  const h = openHistory(dir);
  const runner = new JobRunner({ history: h, workerModules: { test: TEST_JOB }, ...opts });
  const events: JobProgressEvent[] = [];
  runner.subscribe((e) => events.push(e));
  return {
    h,
    runner,
    events,
    dir,
    done: async () => {
      await runner.close();
      h.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const firstEvent = (runner: JobRunner, pred: (e: JobProgressEvent) => boolean) =>
  new Promise<JobProgressEvent>((resolve) => {
    const off = runner.subscribe((e) => {
      if (pred(e)) {
        off();
        resolve(e);
      }
    });
  });

test('a CPU job in a worker streams progress, logs and stages, persists them, and completes with its result', async () => {
  const { h, runner, events, done } = setup({ heartbeatMs: 100 });
  try {
    const submitted = runner.submit('test', { mode: 'count', steps: 40, stepMs: 25 });
    assert.ok(['queued', 'running'].includes(submitted.state));
    // While it runs, the heartbeat and progress reach the database.
    await firstEvent(runner, (e) => e.job.progress >= 0.2);
    await new Promise((r) => setTimeout(r, 250));
    const mid = h.getJob(submitted.id);
    assert.equal(mid.state, 'running');
    assert.ok(mid.heartbeatAt && Date.now() - Date.parse(mid.heartbeatAt) < 1000, `heartbeat ${mid.heartbeatAt}`);
    assert.ok(mid.progress > 0, 'progress persisted while running');

    const final = await runner.wait(submitted.id);
    assert.equal(final.state, 'completed');
    assert.equal(final.progress, 1);
    assert.deepEqual((final.result as { steps: number }).steps, 40);
    const mine = events.filter((e) => e.job.id === submitted.id);
    const states = mine.map((e) => e.job.state);
    assert.equal(states[0], 'queued');
    assert.ok(states.includes('running'));
    assert.equal(states.at(-1), 'completed');
    const fractions = mine.map((e) => e.job.progress);
    assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), 'progress never goes back');
    assert.ok(mine.some((e) => e.job.stage === 'first half') && mine.some((e) => e.job.stage === 'second half'));
    assert.ok(mine.some((e) => e.metrics?.step));
    assert.ok(mine.some((e) => e.log?.includes('step 1')));
    // Throttled to ~10 Hz: 40 steps × 25 ms ≈ 1 s should not give one event per progress and log call (80).
    assert.ok(mine.length < 40, `${mine.length} events`);
    const stored = runner.detail(submitted.id);
    assert.equal(stored.state, 'completed');
    assert.equal(stored.stage, 'second half');
    assert.equal(stored.logTail.at(-1), 'step 40');
    assert.deepEqual(stored.checkpoint, { step: 40, acc: (final.result as { acc: number }).acc });
    assert.equal(runner.list(['completed'])[0].id, submitted.id);
  } finally {
    await done();
  }
});

test('cooperative cancel: the job sees its signal and ends cancelled well before the grace period', async () => {
  const { runner, done } = setup({ cancelGraceMs: 10_000 });
  try {
    const job = runner.submit('test', { mode: 'count', steps: 1000, stepMs: 20 });
    await firstEvent(runner, (e) => e.job.id === job.id && e.job.progress > 0);
    const t0 = Date.now();
    runner.cancel(job.id);
    const final = await runner.wait(job.id);
    const ms = Date.now() - t0;
    assert.equal(final.state, 'cancelled');
    assert.ok(ms < 2000, `cancel took ${ms} ms`);
    assert.ok(final.progress < 1);
  } finally {
    await done();
  }
});

test('a worker that ignores the signal is terminated after the grace period and ends cancelled', async () => {
  const { runner, done } = setup({ cancelGraceMs: 300 });
  try {
    const job = runner.submit('test', { mode: 'ignore-cancel' });
    await firstEvent(runner, (e) => e.job.id === job.id && e.job.stage === 'stubborn');
    const t0 = Date.now();
    runner.cancel(job.id);
    const final = await runner.wait(job.id);
    const ms = Date.now() - t0;
    assert.equal(final.state, 'cancelled');
    assert.ok(ms >= 290 && ms < 3000, `terminated after ${ms} ms`);
  } finally {
    await done();
  }
});

test('a failing worker gives state failed with its message and code; a worker that exits gives failed too', async () => {
  const { runner, done } = setup();
  try {
    const a = runner.submit('test', { mode: 'fail' });
    const b = runner.submit('test', { mode: 'exit' });
    const fa = await runner.wait(a.id);
    assert.equal(fa.state, 'failed');
    assert.match(fa.error!, /conv2d_3.*gelu/);
    assert.equal(runner.detail(a.id).errorCode, 'BAD_MODEL');
    assert.deepEqual(runner.detail(a.id).logTail, ['about to fail']);
    const fb = await runner.wait(b.id);
    assert.equal(fb.state, 'failed');
    assert.match(fb.error!, /exited with code 3/);
    assert.throws(() => runner.submit('nope', {}), { code: 'INVALID_ARGUMENT', message: /nope.*test/ });
  } finally {
    await done();
  }
});

test('a worker stores its results in the same history through ctx.dataDir', async () => {
  const { h, runner, done } = setup();
  try {
    const m = h.addModel({ name: 'm', format: 'tflite', path: '/m.tflite', sha256: '00' });
    const final = await runner.wait(runner.submit('test', { mode: 'store', modelId: m.id }).id);
    assert.equal(final.state, 'completed', final.error ?? '');
    const [id] = (final.result as { variantIds: string[] }).variantIds;
    const v = h.getVariant(id);
    assert.equal(v.name, 'from worker');
    assert.equal(v.artifact!.size, 3);
    assert.equal(h.getModel(m.id).variantCount, 1);
  } finally {
    await done();
  }
});

test('concurrency 1: jobs queue and run one at a time in order; a queued job cancels at once', async () => {
  const { runner, events, done } = setup({ concurrency: 1, heartbeatMs: 200 });
  try {
    const ids = [0, 1, 2].map(() => runner.submit('test', { mode: 'count', steps: 10, stepMs: 60 }).id);
    const dropped = runner.submit('test', { mode: 'count', steps: 3 });
    assert.equal(runner.cancel(dropped.id).state, 'cancelled');
    // A second runner on the same history (the CLI next to the app) must not take the waiting jobs for orphans.
    await new Promise((r) => setTimeout(r, 1200));
    const other = new JobRunner({ history: runner.history, workerModules: { test: TEST_JOB }, staleAfterMs: 1000 });
    assert.deepEqual(other.interruptedAtStart, []);
    await other.close();
    await Promise.all(ids.map((id) => runner.wait(id)));
    const running = new Set<string>();
    let maxRunning = 0;
    const startOrder: string[] = [];
    for (const e of events) {
      if (e.job.state === 'running') {
        if (!running.has(e.job.id)) startOrder.push(e.job.id);
        running.add(e.job.id);
      } else running.delete(e.job.id);
      maxRunning = Math.max(maxRunning, running.size);
    }
    assert.equal(maxRunning, 1);
    assert.deepEqual(startOrder, ids);
    assert.ok(!startOrder.includes(dropped.id));
  } finally {
    await done();
  }
});

test('a job whose process was killed becomes interrupted at the next start, then resumes from its checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-jobs-crash-'));
  try {
    // A real process runs the job and is SIGKILLed mid-way (no chance to clean up).
    const jobId = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CRASH_CHILD, dir, TEST_JOB.href], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = out.match(/checkpointed (\S+)/);
        if (m) {
          child.kill('SIGKILL');
          resolve(m[1]);
        }
      });
      child.on('exit', (code, sig) => sig !== 'SIGKILL' && reject(new Error(`child exited ${code}`)));
    });
    const h = openHistory(dir);
    try {
      assert.equal(h.getJob(jobId).state, 'running', 'the dead process left it running');
      const checkpoint = h.getJob(jobId).checkpoint as { step: number };
      assert.ok(checkpoint.step >= 2);
      // A runner starting right away sees a fresh heartbeat: not stale yet.
      const early = new JobRunner({ history: h, workerModules: { test: TEST_JOB }, staleAfterMs: 60_000 });
      assert.deepEqual(early.interruptedAtStart, []);
      await early.close();
      await new Promise((r) => setTimeout(r, 400));
      const runner = new JobRunner({ history: h, workerModules: { test: TEST_JOB }, staleAfterMs: 300 });
      try {
        assert.deepEqual(runner.interruptedAtStart.map((j) => j.id), [jobId]);
        assert.equal(runner.get(jobId).state, 'interrupted');
        const resumed = runner.resume(jobId);
        assert.ok(['queued', 'running'].includes(resumed.state));
        const final = await runner.wait(jobId);
        assert.equal(final.state, 'completed');
        const result = final.result as { resumedFrom: number; steps: number };
        assert.ok(result.resumedFrom >= checkpoint.step, `resumed from ${result.resumedFrom}`);
        assert.equal(result.steps, 6);
        assert.equal(runner.detail(jobId).attempts, 2);
        assert.ok(runner.detail(jobId).logTail.some((l) => l.startsWith('resuming at step')));
        assert.throws(() => runner.resume(jobId), { code: 'CONFLICT' });
      } finally {
        await runner.close();
      }
    } finally {
      h.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('discard gives up an interrupted job; close() leaves running and queued jobs interrupted for next time', async () => {
  const { h, runner, done } = setup();
  try {
    const orphan = h.createJob('test', { mode: 'count' });
    h.db.prepare(`UPDATE jobs SET state = 'running', heartbeat_at = '2000-01-01T00:00:00.000Z' WHERE id = ?`).run(orphan.id);
    const r2 = new JobRunner({ history: h, workerModules: { test: TEST_JOB } });
    assert.deepEqual(r2.interruptedAtStart.map((j) => j.id), [orphan.id]);
    assert.equal(r2.discard(orphan.id).state, 'cancelled');
    assert.throws(() => r2.discard(orphan.id), { code: 'CONFLICT' });
    await r2.close();

    const running = runner.submit('test', { mode: 'count', steps: 1000, stepMs: 20 });
    const queued = runner.submit('test', { mode: 'count', steps: 2 });
    await firstEvent(runner, (e) => e.job.id === running.id && e.job.progress > 0);
    await runner.close();
    const states: JobState[] = [h.getJob(running.id).state, h.getJob(queued.id).state];
    assert.deepEqual(states, ['interrupted', 'interrupted']);
    assert.throws(() => runner.submit('test', {}), { code: 'CONFLICT' });
  } finally {
    await done();
  }
});
