// A real worker module for the runner tests: CPU work in steps with progress, logs and checkpoints.
import type { JobContext } from '../../../../main/jobs/index.ts';
import { openHistory } from '../../../../main/history/index.ts';

export interface TestJobParams {
  mode: 'count' | 'ignore-cancel' | 'fail' | 'exit' | 'store';
  modelId?: string;
  steps?: number;
  /** Busy milliseconds per step. */
  stepMs?: number;
}

/** Pure CPU work for about `ms` milliseconds (no awaits: the thread is busy). */
function spin(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 1000; i++) x = (x * 31 + i) % 1_000_003;
  return x;
}

export async function run(params: TestJobParams, ctx: JobContext): Promise<unknown> {
  const steps = params.steps ?? 10;
  const stepMs = params.stepMs ?? 10;
  switch (params.mode) {
    case 'fail': {
      ctx.progress({ stage: 'load', fraction: 0.1 });
      ctx.log('about to fail');
      const e = new Error('Layer "conv2d_3": unsupported activation "gelu"') as Error & { code: string };
      e.code = 'BAD_MODEL';
      throw e;
    }
    case 'store': {
      // Results are written from the worker through its own connection to the same history.
      const h = openHistory(ctx.dataDir);
      try {
        ctx.progress({ stage: 'write', fraction: 0.5 });
        const v = h.addVariant({ modelId: params.modelId!, name: 'from worker', artifact: { source: new Uint8Array([1, 2, 3]), kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 0.9 }] });
        return { variantIds: [v.id] };
      } finally {
        h.close();
      }
    }
    case 'exit':
      ctx.progress({ stage: 'load', fraction: 0.1 });
      process.exit(3);
    case 'ignore-cancel':
      ctx.progress({ stage: 'stubborn', fraction: 0 });
      // Never looks at the signal and never yields: only terminate() stops it.
      for (;;) spin(50);
    default: {
      const resume = ctx.resumeFrom as { step: number; acc: number } | null;
      let acc = resume?.acc ?? 0;
      const first = resume?.step ?? 0;
      if (resume) ctx.log(`resuming at step ${first}`);
      for (let step = first; step < steps; step++) {
        ctx.throwIfCancelled();
        acc += spin(stepMs) % 7;
        ctx.progress({ stage: step < steps / 2 ? 'first half' : 'second half', fraction: (step + 1) / steps, message: `step ${step + 1}/${steps}`, metrics: { step: step + 1 } });
        ctx.log(`step ${step + 1}`);
        await ctx.checkpoint({ step: step + 1, acc });
      }
      return { steps, acc, resumedFrom: first };
    }
  }
}
