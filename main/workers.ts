/**
 * Starting a worker thread on one of our own modules, from TypeScript sources (dev, tests, the CLI) or compiled
 * JavaScript (the packaged app). Used by the job runner and by importers whose parsers can hang on corrupt input.
 */
import { Worker } from 'node:worker_threads';

/** `new URL('./x.ts' or './x.js', import.meta.url)`, matching how the calling module itself is running. */
export function siblingModule(callerUrl: string, baseName: string): URL {
  return new URL(`./${baseName}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}

/**
 * From TypeScript sources the worker first registers tsx's loader in its own thread: on Node 20,
 * `execArgv: ['--import', 'tsx']` does not give workers the loader hooks.
 */
export function startModuleWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(code, { eval: true, workerData });
}
