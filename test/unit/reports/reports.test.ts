// Report export on a real temporary history: HTML (self-contained, no scripts, escaped names) and Markdown
// (tables, escaped names), the recommended pick, per-variant recipe/metrics/benchmarks, sensitivity and
// confusion matrix; plus reports.export and history.exportArtifact through the API with export handles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServices } from '../../../main/api/services.ts';
import { createApi } from '../../../main/api/index.ts';
import { buildReport, renderHtml, renderMarkdown, escapeMarkdown, jsonBlocks } from '../../../main/reports/index.ts';
import type { History } from '../../../main/history/index.ts';

function seed(h: History) {
  const m = h.addModel({ name: '<script>alert(1)</script>', format: 'keras', path: '/m.keras', sha256: 'c'.repeat(64), parameterCount: 1234 });
  const bench = (p50: number) => ({ runtime: 'tflite-wasm', coldMs: 9, warmMinMs: p50, warmP50Ms: p50, warmP90Ms: p50 + 1, warmP99Ms: p50 + 2, runs: 20 });
  const base = h.addVariant({ modelId: m.id, name: 'float32', recipe: { technique: 'convert' }, artifact: { source: new Uint8Array(4000).fill(7), kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 0.98 }], benchmarks: [bench(4)] });
  const q = h.addVariant({
    modelId: m.id, name: 'int8 | <b>fast</b>', recipe: { technique: 'int8', calibration: { method: 'mse' } },
    artifact: { source: new Uint8Array(1000).fill(8), kind: 'tflite' }, metrics: [{ name: 'accuracy', value: 0.979 }], benchmarks: [bench(2)],
    reports: {
      sensitivity: { layers: [{ layer: 'conv1', sqnrDb: 31.5, agreement: 0.99 }, { layer: '<dense>', sqnrDb: 12.25, agreement: 0.95 }] },
      // As the optimize pipeline stores it: the variant's confusion matrix inside its 'evaluation' report.
      evaluation: { samples: 100, variant: { top1: 0.97, confusion: [[48, 2], [1, 49]] } },
    },
  });
  return { m, base, q };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-reports-'));
  const picks: string[] = [];
  const services = createServices({ dataDir: dir, picker: { pick: async () => picks.shift() ?? null } });
  return {
    dir, services, picks, api: createApi(services),
    async [Symbol.asyncDispose]() {
      await services.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('HTML report: self-contained, no scripts, names escaped, pick and per-variant sections present', async () => {
  await using t = setup();
  const { q } = seed(t.services.history);
  const html = renderHtml(buildReport(t.services.history, t.services.history.listModels().items[0]!.id));
  assert.match(html, /^<!DOCTYPE html>/);
  assert.doesNotMatch(html, /<script/i, 'no script element, not even from the model name');
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.doesNotMatch(html, /<b>fast<\/b>/);
  assert.doesNotMatch(html, /(src|href)=/i, 'nothing loaded from anywhere');
  assert.match(html, /<style>[^<]*@media print/);
  assert.match(html, /<p class="pick"><strong>int8 \| &lt;b&gt;fast&lt;\/b&gt;: int8 \| &lt;b&gt;fast&lt;\/b&gt; is 4× smaller and 2× faster than the original and loses 0\.1 points of accuracy\.<\/strong><\/p>/);
  assert.match(html, /★ recommended/);
  assert.match(html, /<dt>calibration\.method<\/dt><dd>mse<\/dd>/);
  assert.match(html, /<h3>Per-layer sensitivity<\/h3>\n<table>/);
  assert.match(html, /<td>&lt;dense&gt;<\/td><td class="n">12\.25<\/td>/);
  assert.match(html, /<h3>Confusion matrix<\/h3>/);
  assert.match(html, /<td>1<\/td><td class="n">1<\/td><td class="n">49<\/td>/);
  assert.ok(html.includes(q.id));
});

test('Markdown report: tables and escaped names', async () => {
  await using t = setup();
  const { m } = seed(t.services.history);
  const md = renderMarkdown(buildReport(t.services.history, m.id));
  assert.match(md, /^# Edgewise report: &lt;script&gt;alert\\\(1\\\)&lt;\/script&gt;$/m);
  assert.doesNotMatch(md, /<script|<b>/);
  assert.match(md, /^\| Variant \| Technique \| Size \|/m);
  assert.match(md, /^\| --- \| --- \| ---: \|/m);
  // A pipe in a name must not split the table cell.
  assert.match(md, /^\| int8 \\\| &lt;b&gt;fast&lt;\/b&gt; ★ recommended \| int8 \|/m);
  assert.match(md, /^## Recommended\n\n\*\*int8 /m);
  assert.match(md, /^\| tflite-wasm \| 9\.00 ms \| 2\.00 ms \| 2\.00 ms \| 3\.00 ms \| 4\.00 ms \| 20 \|$/m);
});

test('escapeMarkdown and jsonBlocks on odd input', () => {
  assert.equal(escapeMarkdown('a|b*c_<x>\nnext'), 'a\\|b\\*c\\_&lt;x&gt; next');
  assert.deepEqual(jsonBlocks('just text'), [{ type: 'pre', text: '"just text"' }]);
  assert.equal(jsonBlocks([[1, 2], [3, 4]])[1]!.type, 'table');
  assert.deepEqual(jsonBlocks({ a: 1, b: { c: 2 } }), [{ type: 'kv', pairs: [['a', '1'], ['b', '{"c":2}']] }]);
});

test('reports.export and history.exportArtifact write to picked export files; other handles are refused', async () => {
  await using t = setup();
  const { m, q } = seed(t.services.history);
  t.picks.push(join(t.dir, 'report.html'), join(t.dir, 'model.tflite'), join(t.dir, 'data'));
  const reportFile = (await t.api.handlers['files.pick']({ purpose: 'export' }));
  const modelFile = (await t.api.handlers['files.pick']({ purpose: 'export' }));
  const datasetFile = (await t.api.handlers['files.pick']({ purpose: 'dataset' }));
  assert.ok(reportFile.ok && reportFile.value && modelFile.ok && modelFile.value && datasetFile.ok && datasetFile.value);

  const r = await t.api.handlers['reports.export']({ modelId: m.id, format: 'html', handle: reportFile.value.handle });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.name, 'report.html');
  assert.equal(readFileSync(join(t.dir, 'report.html')).length, r.value.bytes);
  assert.match(readFileSync(join(t.dir, 'report.html'), 'utf8'), /^<!DOCTYPE html>/);

  const a = await t.api.handlers['history.exportArtifact']({ id: q.id, handle: modelFile.value.handle });
  assert.ok(a.ok, JSON.stringify(a));
  assert.equal(a.value.bytes, 1000);
  assert.deepEqual(readFileSync(join(t.dir, 'model.tflite')), Buffer.from(new Uint8Array(1000).fill(8)));

  const refused = await t.api.handlers['reports.export']({ modelId: m.id, format: 'markdown', handle: datasetFile.value.handle });
  assert.ok(!refused.ok);
  assert.equal(refused.error.code, 'FORBIDDEN');
});

test('history.delete removes the variant and its now-unreferenced artifact; compare and summary via the API', async () => {
  await using t = setup();
  const { m, base, q } = seed(t.services.history);
  const summary = await t.api.handlers['results.summary']({ modelId: m.id, goal: 'cpu-speed' });
  assert.ok(summary.ok);
  assert.equal(summary.value.recommendation.variantId, q.id);
  const noTarget = await t.api.handlers['results.summary']({});
  assert.ok(!noTarget.ok);
  assert.match(noTarget.error.message, /give a modelId or a jobId/);

  const cmp = await t.api.handlers['history.compare']({ ids: [base.id, q.id] });
  assert.ok(cmp.ok);
  assert.ok(cmp.value.rows.some((r) => r.label === 'technique' && r.differs));

  const artifactPath = q.artifact!.path;
  const del = await t.api.handlers['history.delete']({ id: q.id });
  assert.ok(del.ok);
  assert.deepEqual(del.value.deletedVariants, [q.id]);
  assert.equal(del.value.deletedArtifacts.length, 1);
  assert.throws(() => readFileSync(artifactPath), /ENOENT/);
  const gone = await t.api.handlers['history.getVariant']({ id: q.id });
  assert.ok(!gone.ok);
  assert.equal(gone.error.code, 'NOT_FOUND');
});
