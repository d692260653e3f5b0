/**
 * The renderer's mirror of the job runner: loaded once from jobs.list, then kept current by job events.
 * All job state lives in the main process; this only reflects it.
 */
import type { JobSummary } from '../../preload/contract.ts';
import { call, onEvent } from './api.ts';

const ACTIVE = new Set(['queued', 'running']);
const KEEP_FINISHED = 20;

class Jobs {
  #byId = $state<Record<string, JobSummary>>({});
  loaded = $state(false);

  all = $derived(Object.values(this.#byId).sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
  active = $derived(this.all.filter((job) => ACTIVE.has(job.state)));
  recent = $derived([...this.active, ...this.all.filter((job) => !ACTIVE.has(job.state)).slice(0, KEEP_FINISHED)]);

  #started = false;

  /** Loads the current jobs and subscribes to updates; idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    onEvent((event) => {
      if (event.type === 'job') this.#byId[event.job.id] = event.job;
    });
    // An event may arrive before the list and be newer: #put keeps whichever was updated last.
    void call('jobs.list', {}, 'Could not load jobs')
      .then((list) => {
        for (const job of list) this.#put(job);
        this.loaded = true;
      })
      .catch(() => {});
  }

  async cancel(id: string): Promise<void> {
    this.#put(await call('jobs.cancel', { id }, 'Could not cancel the job'));
  }

  async resume(id: string): Promise<void> {
    this.#put(await call('jobs.resume', { id }, 'Could not resume the job'));
  }

  async discard(id: string): Promise<void> {
    this.#put(await call('jobs.discard', { id }, 'Could not discard the job'));
  }

  #put(job: JobSummary): void {
    const known = this.#byId[job.id];
    if (!known || known.updatedAt <= job.updatedAt) this.#byId[job.id] = job;
  }
}

export const jobs = new Jobs();
