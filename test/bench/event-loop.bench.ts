/**
 * How responsive the main event loop stays while a CPU-heavy job runs through the JobRunner.
 * Run: npm run bench:eventloop   (optional env: BENCH_SECONDS=5, BENCH_STEP_MS=20)
 *
 * The job busy-loops in a worker thread for ~BENCH_SECONDS, reporting progress + a log line + a durable
 * checkpoint every step (a DB write on the main side each step) — more chatter than real jobs. Meanwhile the main
 * thread measures event-loop delay with perf_hooks.monitorEventLoopDelay and the gaps of a 10 ms interval timer.
 * Target: max stall < 50 ms.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHistory } from '../../main/history/index.ts';
import { JobRunner } from '../../main/jobs/index.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const stepMs = Number(process.env.BENCH_STEP_MS ?? 20);
const dir = mkdtempSync(join(tmpdir(), 'edgewise-bench-eventloop-'));
const history = openHistory(dir);
const runner = new JobRunner({ history, workerModules: { cpu: new URL('../unit/jobs/workers/test-job.ts', import.meta.url) } });
let events = 0;
runner.subscribe(() => events++);

/** Runs fn while sampling the event loop: monitorEventLoopDelay (1 ms resolution) and a 10 ms interval timer. */
async function measure(fn: () => Promise<unknown>) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const gaps: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 10);
  histogram.enable();
  const t0 = performance.now();
  await fn();
  const elapsed = performance.now() - t0;
  histogram.disable();
  clearInterval(timer);
  const ms = (ns: number) => +(ns / 1e6).toFixed(2);
  gaps.sort((a, b) => a - b);
  const maxGap = gaps[gaps.length - 1];
  return {
    seconds: +(elapsed / 1000).toFixed(2),
    eventLoopDelayMs: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) },
    timer10ms: { ticks: gaps.length, p99GapMs: +gaps[Math.floor(gaps.length * 0.99)].toFixed(2), maxGapMs: +maxGap.toFixed(2) },
    maxStallMs: +Math.max(histogram.max / 1e6, maxGap - 10).toFixed(2),
  };
}

// Idle baseline first: on a shared, oversubscribed machine the OS alone causes stalls; this separates them.
const idle = await measure(() => new Promise((r) => setTimeout(r, 2000)));
let state = '';
const busy = await measure(async () => {
  const job = runner.submit('cpu', { mode: 'count', steps: Math.round((seconds * 1000) / stepMs), stepMs });
  state = (await runner.wait(job.id)).state;
});
await runner.close();
history.close();
rmSync(dir, { recursive: true, force: true });

const result = {
  idleBaseline: idle,
  withJob: { job: state, progressEvents: events, ...busy },
  target: 'max stall < 50 ms while the job runs',
  pass: busy.maxStallMs < 50 && state === 'completed',
};
console.log(JSON.stringify(result, null, 2));
if (!result.pass) process.exitCode = 1;
