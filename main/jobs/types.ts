/**
 * What a job's worker module sees, and the messages between a job's worker thread and the JobRunner.
 *
 * A worker module (one per job kind) exports `run(params, ctx)`:
 *
 *   export async function run(params: MyParams, ctx: JobContext): Promise<MyResult> {
 *     const start = (ctx.resumeFrom as { step: number } | null)?.step ?? 0;
 *     for (let step = start; step < 100; step++) {
 *       ctx.throwIfCancelled();
 *       … work …
 *       ctx.progress({ stage: 'calibrate', fraction: step / 100 });
 *       await ctx.checkpoint({ step: step + 1 });   // durable before it resolves
 *     }
 *     return { variantIds: [...] };                  // JSON-able: stored as the job's result
 *   }
 */

export interface JobProgressUpdate {
  /** Stage name ('convert', 'calibrate', 'evaluate', …). A new stage is persisted at once. */
  stage?: string;
  /** 0..1 of the whole job. */
  fraction?: number;
  message?: string;
  /** Live numbers (loss, accuracy so far, …), passed to subscribers, not stored. */
  metrics?: Record<string, number>;
}

export interface JobContext {
  jobId: string;
  /** The data folder: open the history here (`openHistory(ctx.dataDir)`) to store results from the worker. */
  dataDir: string;
  /**
   * Aborted when the job is cancelled. A busy loop that never awaits still sees it: every call to progress(),
   * log() or throwIfCancelled() checks a shared flag the runner sets.
   */
  signal: AbortSignal;
  /** The last checkpoint saved by a previous run of this job (resume), or null. */
  resumeFrom: unknown;
  progress(update: JobProgressUpdate): void;
  log(line: string): void;
  /** Saves resume state (JSON-able); resolves once it is stored in the history. */
  checkpoint(data: unknown): Promise<void>;
  /** Throws the cancellation error if the job was cancelled. */
  throwIfCancelled(): void;
}

/** The shape of a worker module. */
export interface JobModule<P = any, R = unknown> {
  run(params: P, ctx: JobContext): Promise<R>;
}

/** Data the runner hands to a worker thread. */
export interface JobWorkerData {
  jobId: string;
  kind: string;
  dataDir: string;
  moduleUrl: string;
  params: unknown;
  resumeFrom: unknown;
  /** Int32Array over a SharedArrayBuffer: [0] = 1 once cancel was requested. */
  cancelFlag: SharedArrayBuffer;
}

export type WorkerToMain =
  | { type: 'progress'; stage?: string; fraction?: number; message?: string; metrics?: Record<string, number> }
  | { type: 'log'; line: string }
  | { type: 'checkpoint'; seq: number; data: unknown }
  | { type: 'done'; result: unknown }
  | { type: 'error'; message: string; code?: string; cancelled: boolean };

export type MainToWorker = { type: 'cancel' } | { type: 'checkpoint-ack'; seq: number; error?: string };
