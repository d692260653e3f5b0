/** Long-running work as jobs: worker threads, progress, cancel, heartbeat, resume after a crash. */
export { JobRunner, type JobListener, type JobRunnerOptions } from './runner.ts';
export type { JobContext, JobModule, JobProgressUpdate } from './types.ts';
