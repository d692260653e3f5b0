/**
 * The 'optimize' job kind through the real JobRunner (worker thread) and the API method 'optimize.start':
 * stages in order, the variant stored with its lineage, and a cancelled job storing nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobProgressEvent } from '../../preload/contract.ts';
import { openHistory } from '../../main/history/index.ts';
import { JobRunner } from '../../main/jobs/index.ts';
import { JOB_KINDS } from '../../main/api/services.ts';
import { optimizeJobParams } from '../../main/optimize/ptq/api-params.ts';
import { FileHandles } from '../../main/api/files.ts';
import { npy, tempDir } from '../unit/data/helpers.ts';
import { writeFileSync } from 'node:fs';

const BLOCKS = fileURLToPath(new URL('../fixtures/models/tfjs/blocks/model.json', import.meta.url));

function setup() {
  const dir = tempDir('ptq-job-');
  const h = openHistory(dir);
  const runner = new JobRunner({ history: h, workerModules: { optimize: JOB_KINDS.optimize! } });
  const events: JobProgressEvent[] = [];
  runner.subscribe((e) => events.push(e));
  const calib = join(dir, 'calib.npy');
  writeFileSync(calib, npy('<f4', [110, 8, 8, 4], Float32Array.from({ length: 110 * 256 }, (_, i) => (i % 97) / 97)));
  return { dir, h, runner, events, calib, done: async () => { await runner.close(); h.close(); } };
}

test('optimize.start → an optimize job: stages in order, variant stored under its float parent', async () => {
  const t = setup();
  try {
    const files = new FileHandles(null);
    const params = optimizeJobParams({
      model: files.register(BLOCKS, 'model').handle,
      recipe: 'int8',
      calibration: { file: files.register(t.calib, 'dataset').handle, preprocessing: { scale: 'raw' } },
    }, files);
    const job = t.runner.submit('optimize', { ...params, benchmark: { runs: 2, warmup: 0 } });
    const final = await t.runner.wait(job.id);
    assert.equal(final.state, 'completed', JSON.stringify(t.runner.detail(job.id).logTail));
    const result = final.result as { variantIds: string[]; sizeRatio: number };
    assert.equal(result.variantIds.length, 1);
    assert.ok(result.sizeRatio > 0 && result.sizeRatio < 1);
    const stages = [...new Set(t.events.filter((e) => e.job.id === job.id).map((e) => e.job.stage).filter(Boolean))];
    const order = ['import', 'calibrate', 'quantize', 'write', 'benchmark', 'store'];
    assert.deepEqual(stages.filter((s) => order.includes(s!)), order.filter((s) => stages.includes(s)), `stages ${stages.join(', ')}`);
    assert.ok(stages.includes('calibrate') && stages.includes('store'));
    const v = t.h.getVariantWithLineage(result.variantIds[0]!);
    assert.equal(v.lineage[0]?.name, 'float');
    assert.equal((v.recipe as { name: string }).name, 'int8');
  } finally {
    await t.done();
  }
});

test('a cancelled optimize job stores nothing', async () => {
  const t = setup();
  try {
    const job = t.runner.submit('optimize', { model: BLOCKS, recipe: 'int8', calibration: { location: t.calib }, benchmark: { runs: 200, warmup: 0 } });
    await new Promise<void>((resolve) => {
      const off = t.runner.subscribe((e) => {
        if (e.job.id === job.id && (e.job.stage === 'calibrate' || e.job.stage === 'quantize')) {
          off();
          resolve();
        }
      });
    });
    t.runner.cancel(job.id);
    const final = await t.runner.wait(job.id);
    assert.equal(final.state, 'cancelled');
    assert.equal(t.h.listVariants().total, 0);
    assert.equal(t.h.listModels().total, 0);
  } finally {
    await t.done();
  }
});
