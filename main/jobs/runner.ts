/**
 * The job runner: long work runs in worker_threads (never on the main event loop), one module per job kind.
 * State lives in the history's jobs table: progress, stage and log tail are persisted with a heartbeat while the
 * worker lives (DB writes throttled to the heartbeat), stage changes and checkpoints at once. Jobs whose
 * heartbeat went stale (the process died) are marked 'interrupted' at start and can be resumed from their last
 * checkpoint or discarded.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../workers.ts';
import { pathToFileURL } from 'node:url';
import type { JobProgressEvent, JobState, JobSummary } from '../../preload/contract.ts';
import { HistoryError, toJobSummary, type History, type JobPatch, type JobRecord } from '../history/index.ts';
import type { JobWorkerData, MainToWorker, WorkerToMain } from './types.ts';

export interface JobRunnerOptions {
  history: History;
  /** Job kind → worker module (absolute path or file URL) exporting `run(params, ctx)`. */
  workerModules: Record<string, string | URL>;
  /** Jobs running at once; more are queued. Default 1 (CPU-bound jobs on a small machine). */
  concurrency?: number;
  /** How often the main side writes the heartbeat (and pending progress) of a running job. Default 1000 ms. */
  heartbeatMs?: number;
  /** A running/queued job whose heartbeat is older than this at start is 'interrupted'. Default 10 s. */
  staleAfterMs?: number;
  /** Time a cancelled worker gets to stop on its own before it is terminated. Default 3000 ms. */
  cancelGraceMs?: number;
  /** Minimum interval between progress events of one job to subscribers. Default 100 ms (~10 Hz). */
  eventIntervalMs?: number;
}

export type JobListener = (event: JobProgressEvent) => void;

const LOG_TAIL = 50;

interface Active {
  job: JobSummary;
  worker: Worker;
  cancelFlag: Int32Array;
  logTail: string[];
  dirty: boolean;
  cancelRequested: boolean;
  finished: boolean;
  killTimer?: NodeJS.Timeout;
  lastEmit: number;
  emitTimer?: NodeJS.Timeout;
  pendingLog: string[];
  pendingMetrics?: Record<string, number>;
}

// Dev and tests run TypeScript sources; the packaged app runs the compiled .js next to this file.
const ENTRY = siblingModule(import.meta.url, 'worker-entry');

export class JobRunner {
  readonly history: History;
  /** Jobs found stale when this runner started (now 'interrupted'): the UI offers resume or discard. */
  readonly interruptedAtStart: JobSummary[];
  private readonly modules: Map<string, string>;
  private readonly concurrency: number;
  private readonly heartbeatMs: number;
  private readonly cancelGraceMs: number;
  private readonly eventIntervalMs: number;
  private readonly queue: string[] = [];
  private readonly active = new Map<string, Active>();
  private readonly listeners = new Set<JobListener>();
  private readonly waiters = new Map<string, ((j: JobSummary) => void)[]>();
  private heartbeatTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(opts: JobRunnerOptions) {
    this.history = opts.history;
    this.modules = new Map(Object.entries(opts.workerModules).map(([kind, m]) => [kind, toModuleUrl(m)]));
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
    this.cancelGraceMs = opts.cancelGraceMs ?? 3000;
    this.eventIntervalMs = opts.eventIntervalMs ?? 100;
    const staleAfterMs = opts.staleAfterMs ?? 10_000;
    this.interruptedAtStart = this.history.interruptStaleJobs(new Date(Date.now() - staleAfterMs)).map(toJobSummary);
  }

  get kinds(): string[] {
    return [...this.modules.keys()];
  }

  /** Queues a job; it starts as soon as a slot is free. */
  submit(kind: string, params: unknown): JobSummary {
    this.assertOpen();
    if (!this.modules.has(kind)) {
      throw new HistoryError('INVALID_ARGUMENT', `Unknown job kind "${kind}"; known kinds: ${this.kinds.join(', ') || 'none'}`);
    }
    const job = toJobSummary(this.history.createJob(kind, params));
    this.queue.push(job.id);
    this.emit(job);
    this.pump();
    return this.get(job.id);
  }

  get(id: string): JobSummary {
    return this.active.get(id)?.job ?? toJobSummary(this.history.getJob(id));
  }

  /** Full record (log tail, checkpoint, error code) for a job's detail view. */
  detail(id: string): JobRecord {
    return this.history.getJob(id);
  }

  list(states?: JobState[]): JobSummary[] {
    return this.history.listJobs({ states }).map((j) => this.active.get(j.id)?.job ?? toJobSummary(j));
  }

  /** Subscribes to job events (throttled progress, every state change); returns the unsubscribe function. */
  subscribe(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when the job reaches a final state (completed, failed, cancelled, interrupted). */
  wait(id: string): Promise<JobSummary> {
    const job = this.get(id);
    if (isFinal(job.state) && !this.active.has(id) && !this.queue.includes(id)) return Promise.resolve(job);
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  /**
   * Cancels a job: a queued one at once; a running one cooperatively (its signal aborts), then its worker is
   * terminated after the grace period. Cancelling a finished job changes nothing.
   */
  cancel(id: string): JobSummary {
    const a = this.active.get(id);
    if (a) {
      if (!a.cancelRequested) {
        a.cancelRequested = true;
        Atomics.store(a.cancelFlag, 0, 1);
        a.worker.postMessage({ type: 'cancel' } satisfies MainToWorker);
        a.killTimer = setTimeout(() => void a.worker.terminate(), this.cancelGraceMs);
        this.patchActive(a, { message: 'Cancelling…' }, true);
      }
      return a.job;
    }
    const qi = this.queue.indexOf(id);
    if (qi >= 0) {
      this.queue.splice(qi, 1);
      return this.finish(id, { state: 'cancelled', message: 'Cancelled before it started' });
    }
    const job = this.get(id);
    if (job.state === 'interrupted') return this.discard(id);
    return job;
  }

  /** Re-queues an interrupted (or failed/cancelled) job with its params; the worker gets its last checkpoint. */
  resume(id: string): JobSummary {
    this.assertOpen();
    const job = this.history.getJob(id);
    if (!['interrupted', 'failed', 'cancelled'].includes(job.state)) {
      throw new HistoryError('CONFLICT', `Job ${id} is ${job.state}; only interrupted, failed or cancelled jobs can be resumed`);
    }
    if (!this.modules.has(job.kind)) throw new HistoryError('UNSUPPORTED', `Job ${id} has kind "${job.kind}", which this runner cannot run`);
    const updated = toJobSummary(this.history.updateJob(id, { state: 'queued', message: 'Resuming…', error: null, errorCode: null }));
    this.queue.push(id);
    this.emit(updated);
    this.pump();
    return this.get(id);
  }

  /** Gives up an interrupted job: it becomes 'cancelled' (its record, log and checkpoint stay for inspection). */
  discard(id: string): JobSummary {
    const job = this.history.getJob(id);
    if (job.state !== 'interrupted') throw new HistoryError('CONFLICT', `Job ${id} is ${job.state}; only interrupted jobs can be discarded`);
    return this.finish(id, { state: 'cancelled', message: 'Discarded after an interruption' });
  }

  /**
   * Stops the runner (app quit): running workers are terminated and, like queued jobs, marked 'interrupted' so
   * the next start offers to resume them.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of this.queue.splice(0)) this.finish(id, { state: 'interrupted', message: 'Interrupted: Edgewise quit before it started' });
    await Promise.all(
      [...this.active.values()].map(async (a) => {
        a.finished = true;
        clearTimeout(a.killTimer);
        clearTimeout(a.emitTimer);
        this.active.delete(a.job.id);
        await a.worker.terminate();
        this.finish(a.job.id, { state: 'interrupted', message: 'Interrupted: Edgewise quit while it was running', logTail: a.logTail, progress: a.job.progress, stage: a.job.stage });
      }),
    );
    this.stopHeartbeat();
  }

  // ---- internals ------------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new HistoryError('CONFLICT', 'The job runner is closed');
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.concurrency && this.queue.length > 0) this.start(this.queue.shift()!);
  }

  private start(id: string): void {
    const rec = this.history.getJob(id);
    // Another runner (the CLI next to the app) may have discarded or taken it meanwhile.
    if (rec.state !== 'queued') return;
    const job = toJobSummary(
      this.history.updateJob(id, { state: 'running', heartbeat: true, attempts: rec.attempts + 1, message: rec.checkpoint != null ? 'Resumed from checkpoint' : null }),
    );
    const cancelFlag = new SharedArrayBuffer(4);
    const data: JobWorkerData = { jobId: id, kind: job.kind, dataDir: this.history.dir, moduleUrl: this.modules.get(job.kind)!, params: job.params, resumeFrom: rec.checkpoint, cancelFlag };
    let worker: Worker;
    try {
      worker = spawnWorker(data);
    } catch (e) {
      this.finish(id, { state: 'failed', error: `Could not start a worker for job ${id}: ${(e as Error).message}` });
      return;
    }
    const a: Active = { job, worker, cancelFlag: new Int32Array(cancelFlag), logTail: rec.logTail, dirty: false, cancelRequested: false, finished: false, lastEmit: 0, pendingLog: [] };
    this.active.set(id, a);
    worker.on('message', (m: WorkerToMain) => this.onMessage(a, m));
    worker.on('error', (e) => this.settle(a, { state: 'failed', error: `Job ${id} (${job.kind}) crashed: ${e.message}`, errorCode: (e as { code?: string }).code ?? null }));
    worker.on('exit', (code) => {
      if (a.cancelRequested) this.settle(a, { state: 'cancelled', message: 'Cancelled (worker stopped)' });
      else this.settle(a, { state: 'failed', error: `The worker of job ${id} (${job.kind}) exited with code ${code} before finishing` });
    });
    this.emit(job);
    this.startHeartbeat();
  }

  private onMessage(a: Active, m: WorkerToMain): void {
    if (a.finished) return;
    switch (m.type) {
      case 'progress': {
        const stageChanged = m.stage !== undefined && m.stage !== a.job.stage;
        const patch: Partial<JobSummary> = {};
        if (m.stage !== undefined) patch.stage = m.stage;
        if (m.fraction !== undefined && Number.isFinite(m.fraction)) patch.progress = Math.min(1, Math.max(0, m.fraction));
        if (m.message !== undefined) patch.message = m.message;
        if (m.metrics) a.pendingMetrics = { ...a.pendingMetrics, ...m.metrics };
        this.patchActive(a, patch, stageChanged);
        break;
      }
      case 'log':
        a.logTail.push(m.line);
        if (a.logTail.length > LOG_TAIL) a.logTail.splice(0, a.logTail.length - LOG_TAIL);
        a.pendingLog.push(m.line);
        a.dirty = true;
        this.emitThrottled(a);
        break;
      case 'checkpoint': {
        // Resume state must be durable before the worker moves on.
        let error: string | undefined;
        try {
          this.history.updateJob(a.job.id, { checkpoint: m.data, heartbeat: true });
        } catch (e) {
          error = (e as Error).message;
        }
        a.worker.postMessage({ type: 'checkpoint-ack', seq: m.seq, error } satisfies MainToWorker);
        break;
      }
      case 'done':
        this.settle(a, { state: 'completed', progress: 1, result: m.result, message: a.job.message });
        break;
      case 'error':
        if (m.cancelled || a.cancelRequested) this.settle(a, { state: 'cancelled', message: 'Cancelled' });
        else this.settle(a, { state: 'failed', error: m.message, errorCode: m.code ?? null });
        break;
    }
  }

  /** Updates the in-memory job; persists at once when asked (stage change, cancel), else on the heartbeat. */
  private patchActive(a: Active, patch: Partial<JobSummary>, persistNow: boolean): void {
    a.job = { ...a.job, ...patch, updatedAt: new Date().toISOString() };
    a.dirty = true;
    if (persistNow) this.persist(a);
    this.emitThrottled(a, persistNow);
  }

  private persist(a: Active): void {
    a.dirty = false;
    this.tryWrite(a.job.id, { stage: a.job.stage, progress: a.job.progress, message: a.job.message, logTail: a.logTail, heartbeat: true });
  }

  /**
   * Progress writes from timers and worker messages must not throw into the event loop (e.g. the history was
   * closed first, or the disk is full): the job goes on and the next write retries.
   */
  private tryWrite(id: string, patch: JobPatch): JobRecord | null {
    try {
      return this.history.updateJob(id, patch);
    } catch (e) {
      console.error(`edgewise jobs: could not record job ${id}: ${(e as Error).message}`);
      return null;
    }
  }

  /** Final state: once per run of a job, from whichever of message/error/exit comes first. */
  private settle(a: Active, patch: JobPatch): void {
    if (a.finished) return;
    a.finished = true;
    clearTimeout(a.killTimer);
    clearTimeout(a.emitTimer);
    this.active.delete(a.job.id);
    void a.worker.terminate();
    this.finish(a.job.id, { stage: a.job.stage, progress: a.job.progress, logTail: a.logTail, ...patch }, a);
    if (this.active.size === 0) this.stopHeartbeat();
    this.pump();
  }

  private finish(id: string, patch: JobPatch, a?: Active): JobSummary {
    const written = this.tryWrite(id, { heartbeat: true, ...patch });
    // Even when the write failed, listeners and waiters learn the outcome.
    const job: JobSummary = written
      ? toJobSummary(written)
      : { ...(a?.job ?? toJobSummary(this.history.getJob(id))), state: patch.state ?? 'failed', error: patch.error ?? null, result: patch.result ?? null, updatedAt: new Date().toISOString() };
    this.emit(job, a?.pendingMetrics, a?.pendingLog.length ? a.pendingLog.join('\n') : undefined);
    if (isFinal(job.state)) {
      for (const resolve of this.waiters.get(id) ?? []) resolve(job);
      this.waiters.delete(id);
    }
    return job;
  }

  private emitThrottled(a: Active, now = false): void {
    const flush = () => {
      a.emitTimer = undefined;
      if (a.finished) return;
      a.lastEmit = Date.now();
      const log = a.pendingLog.length ? a.pendingLog.join('\n') : undefined;
      this.emit(a.job, a.pendingMetrics, log);
      a.pendingLog = [];
      a.pendingMetrics = undefined;
    };
    if (now || Date.now() - a.lastEmit >= this.eventIntervalMs) {
      clearTimeout(a.emitTimer);
      flush();
    } else if (!a.emitTimer) {
      a.emitTimer = setTimeout(flush, this.eventIntervalMs - (Date.now() - a.lastEmit));
    }
  }

  private emit(job: JobSummary, metrics?: Record<string, number>, log?: string): void {
    const event: JobProgressEvent = { type: 'job', job, ...(metrics ? { metrics } : {}), ...(log !== undefined ? { log } : {}) };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A broken subscriber must not break the job.
      }
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => {
      for (const a of this.active.values()) {
        if (a.dirty) this.persist(a);
        else this.tryWrite(a.job.id, { heartbeat: true });
      }
      // Queued jobs are alive too: without this, another runner starting now would take them for orphans.
      for (const id of this.queue) this.tryWrite(id, { heartbeat: true });
    }, this.heartbeatMs);
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}

/** Starts a job's worker thread. */
function spawnWorker(data: JobWorkerData): Worker {
  return startModuleWorker(ENTRY, data);
}

function isFinal(state: JobState): boolean {
  return state !== 'queued' && state !== 'running';
}

function toModuleUrl(m: string | URL): string {
  if (m instanceof URL) return m.href;
  return m.startsWith('file:') ? m : pathToFileURL(m).href;
}
