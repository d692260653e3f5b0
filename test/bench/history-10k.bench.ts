/**
 * History at scale (npm run bench:history): seeds a temporary history with 10,000 variants over 5 models (one
 * with 1,200), metrics and benchmarks on each, artifacts shared between variants (a real MobileNet .tflite among
 * them, so compare parses op histograms), then times what the History and Compare screens call:
 *   - history.listVariants first page (50) sorted by created / name / size, and with a search term
 *   - history.compare of 4 variants
 *   - results.summary of the model with 1,200 variants
 * Prints median and max of repeated runs. Target (service side): list < 300 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openHistory } from '../../main/history/index.ts';
import { compareVariants, resultsSummary } from '../../main/results/index.ts';
import { seedHistory } from './seed-history.ts';

const TOTAL = Number(process.env.BENCH_VARIANTS ?? 10_000);
const BIG_MODEL = 1_200;
const dir = mkdtempSync(join(tmpdir(), 'edgewise-bench-history-'));
const h = openHistory(dir);

function time<T>(label: string, runs: number, fn: () => T): T {
  let result!: T;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label.padEnd(46)} median ${ms[Math.floor(ms.length / 2)]!.toFixed(1).padStart(7)} ms   max ${ms.at(-1)!.toFixed(1).padStart(7)} ms   (${runs} runs)`);
  return result;
}

try {
  const t0 = performance.now();
  const { models, ids, bigIds, sharedArtifacts } = seedHistory(h, TOTAL, BIG_MODEL);
  console.log(`seeded ${TOTAL} variants (${BIG_MODEL} on one model, ${sharedArtifacts} shared artifacts) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  for (const sort of ['created', 'name', 'size'] as const) {
    const page = time(`list first page, sort ${sort}`, 20, () => h.listVariants({ sort, limit: 50 }));
    if (page.items.length !== 50 || page.total !== TOTAL) throw new Error(`unexpected page: ${page.items.length} of ${page.total}`);
  }
  time('list first page, sort name desc, offset 5000', 20, () => h.listVariants({ sort: 'name', order: 'desc', limit: 50, offset: 5000 }));
  const found = time('list with search "int8-edgetpu", sort created', 20, () => h.listVariants({ search: 'int8-edgetpu', limit: 50 }));
  console.log(`  (search matched ${found.total})`);
  time('list one model (1,200), sort size', 20, () => h.listVariants({ modelId: models[0]!.id, sort: 'size', limit: 50 }));
  const cmp = time('compare 4 variants (op histograms parsed)', 10, () => compareVariants(h, [ids[0]!, ids[1]!, ids[16]!, ids[32]!]));
  console.log(`  (${cmp.rows.length} rows, ${cmp.rows.filter((r) => r.differs).length} differ)`);
  const s = time(`results.summary, model with ${bigIds.length} variants`, 5, () => resultsSummary(h, { modelId: models[0]!.id, goal: 'size' }));
  console.log(`  (front by size: ${s.fronts.size.length} variants; pick: ${s.recommendation.reason})`);
} finally {
  h.close();
  rmSync(dir, { recursive: true, force: true });
}
