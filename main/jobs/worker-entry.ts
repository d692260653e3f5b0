/**
 * The entry of every job's worker thread: loads the job kind's module, builds the JobContext and reports
 * progress, logs, checkpoints and the outcome to the JobRunner over the parent port.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { JobContext, JobModule, JobProgressUpdate, JobWorkerData, MainToWorker, WorkerToMain } from './types.ts';

// A CPU-bound job can call progress() millions of times; posting each would flood the main thread.
const PROGRESS_INTERVAL_MS = 50;

/**
 * Linux: lower this worker thread's CPU priority (nice 10) so the main thread — UI events, IPC — wins when
 * cores are scarce. setpriority() with a thread id affects only that thread on Linux; elsewhere we skip it.
 */
function lowerThreadPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
  } catch {
    // Not fatal: the job just competes on equal terms.
  }
}
lowerThreadPriority();

const data = workerData as JobWorkerData;
const port = parentPort!;
const post = (m: WorkerToMain) => port.postMessage(m);
const cancelFlag = new Int32Array(data.cancelFlag);
const controller = new AbortController();

function cancelledError(): Error {
  const e = new Error(`Job ${data.jobId} (${data.kind}) was cancelled`);
  e.name = 'AbortError';
  (e as Error & { code: string }).code = 'CANCELLED';
  return e;
}

/** Synchronous check of the shared flag, so busy loops see a cancel without yielding to the event loop. */
function pollCancel(): void {
  if (!controller.signal.aborted && Atomics.load(cancelFlag, 0) === 1) controller.abort(cancelledError());
}

const pendingCheckpoints = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
port.on('message', (m: MainToWorker) => {
  if (m.type === 'cancel') pollCancel();
  else if (m.type === 'checkpoint-ack') {
    const p = pendingCheckpoints.get(m.seq);
    pendingCheckpoints.delete(m.seq);
    if (m.error) p?.reject(new Error(`Saving the checkpoint of job ${data.jobId} failed: ${m.error}`));
    else p?.resolve();
  }
});

let lastPost = 0;
let lastStage: string | undefined;
let pending: JobProgressUpdate | null = null;
let seq = 0;

const ctx: JobContext = {
  jobId: data.jobId,
  dataDir: data.dataDir,
  signal: controller.signal,
  resumeFrom: data.resumeFrom ?? null,
  progress(update) {
    pollCancel();
    pending = { ...pending, ...update, metrics: update.metrics ?? pending?.metrics };
    const now = Date.now();
    const stageChanged = update.stage !== undefined && update.stage !== lastStage;
    if (!stageChanged && now - lastPost < PROGRESS_INTERVAL_MS) return;
    lastPost = now;
    if (update.stage !== undefined) lastStage = update.stage;
    post({ type: 'progress', ...pending });
    pending = null;
  },
  log(line) {
    pollCancel();
    post({ type: 'log', line: String(line) });
  },
  checkpoint(value) {
    pollCancel();
    const id = ++seq;
    return new Promise<void>((resolve, reject) => {
      pendingCheckpoints.set(id, { resolve, reject });
      post({ type: 'checkpoint', seq: id, data: value });
    });
  },
  throwIfCancelled() {
    pollCancel();
    controller.signal.throwIfAborted();
  },
};

try {
  const mod = (await import(data.moduleUrl)) as Partial<JobModule>;
  if (typeof mod.run !== 'function') {
    throw new Error(`The worker module for job kind "${data.kind}" (${data.moduleUrl}) does not export run(params, ctx)`);
  }
  const result = await mod.run(data.params, ctx);
  if (pending) post({ type: 'progress', ...(pending as JobProgressUpdate) });
  post({ type: 'done', result: result ?? null });
} catch (e) {
  pollCancel();
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  post({ type: 'error', message: err.message, code: typeof code === 'string' ? code : undefined, cancelled: controller.signal.aborted });
}
