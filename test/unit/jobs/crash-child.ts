// Child process for runner.test.ts: runs a job through a JobRunner and reports once it has checkpointed twice;
// the test then SIGKILLs this process, leaving the job 'running' with a heartbeat that goes stale.
import { writeSync } from 'node:fs';
import { openHistory } from '../../../main/history/index.ts';
import { JobRunner } from '../../../main/jobs/index.ts';

const [dir, moduleUrl] = process.argv.slice(2);
const history = openHistory(dir);
const runner = new JobRunner({ history, workerModules: { test: moduleUrl }, heartbeatMs: 100 });
const job = runner.submit('test', { mode: 'count', steps: 6, stepMs: 150 });
const timer = setInterval(() => {
  const step = (history.getJob(job.id).checkpoint as { step?: number } | null)?.step ?? 0;
  if (step >= 2) {
    clearInterval(timer);
    writeSync(1, `checkpointed ${job.id}\n`);
  }
}, 20);
