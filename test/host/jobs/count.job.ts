/**
 * A test-only job kind ('test.count') the web test host registers, so e2e tests can watch a real job run in a
 * real worker thread through the real runner: counts `steps` steps of `stepMs` each, reporting progress, and
 * stops when cancelled.
 */
import type { JobContext } from '../../../main/jobs/index.ts';

export async function run(params: { steps?: number; stepMs?: number }, ctx: JobContext): Promise<{ counted: number }> {
  const steps = params.steps ?? 20;
  const stepMs = params.stepMs ?? 250;
  for (let step = 0; step < steps; step++) {
    ctx.throwIfCancelled();
    ctx.progress({ stage: 'count', fraction: step / steps, message: `Step ${step + 1} of ${steps}` });
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return { counted: steps };
}
