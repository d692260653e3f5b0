// The text of the desktop notification the Electron shell shows when a job ends (main/app/job-notice.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobEndNotice } from '../../../main/app/job-notice.ts';
import type { JobSummary } from '../../../preload/contract.ts';

const job = (patch: Partial<JobSummary>): JobSummary => ({
  id: 'j', kind: 'optimize', state: 'running', stage: null, progress: 0, message: null, error: null,
  createdAt: '', updatedAt: '', params: { recipe: { name: 'int8' } }, result: null, ...patch,
});

test('jobEndNotice: finished, failed and interrupted jobs get a notice naming the job; running and cancelled do not', () => {
  assert.deepEqual(jobEndNotice(job({ state: 'completed', message: 'done' })), { title: 'Optimization (int8) finished', body: 'done' });
  assert.deepEqual(jobEndNotice(job({ state: 'failed', error: 'bad data' })), { title: 'Optimization (int8) failed', body: 'bad data' });
  assert.match(jobEndNotice(job({ state: 'interrupted' }))!.body, /Resume it/);
  assert.equal(jobEndNotice(job({ state: 'running' })), null);
  assert.equal(jobEndNotice(job({ state: 'cancelled' })), null);
  assert.equal(jobEndNotice(job({ kind: 'catalog-download', state: 'completed', params: {} }))!.title, 'Download finished');
});
