// Child process for history-durability.test.ts: adds variants with artifacts in a loop and reports each one on
// stdout only after addVariant returned (i.e. committed). The parent SIGKILLs it at random moments.
import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { openHistory } from '../../main/history/index.ts';

const h = openHistory(process.argv[2]);
const model =
  h.listModels({ limit: 1 }).items[0] ??
  h.addModel({ name: 'durability', format: 'tflite', path: '/dev/null', sha256: '00'.repeat(32) });
writeSync(1, 'ready\n');
let previous: Uint8Array | null = null;
for (let i = 0; ; i++) {
  // Mostly fresh content of varied size (so kills land inside file writes), sometimes a repeat (dedup path).
  const bytes: Uint8Array = previous && i % 5 === 0 ? previous : randomBytes(1 + Math.floor(Math.random() * 200_000));
  previous = bytes;
  const v = h.addVariant({
    modelId: model.id,
    name: `v${i}`,
    recipe: { i },
    artifact: { source: bytes, kind: 'tflite' },
    metrics: [{ name: 'accuracy', value: Math.random() }],
    benchmarks: [{ runtime: 'none', warmMinMs: 1, warmP50Ms: 1, warmP90Ms: 1, warmP99Ms: 1, runs: 1 }],
  });
  // Pipes are synchronous on Linux: once this returns, the parent will read the line even if we die next.
  writeSync(1, `committed ${v.id}\n`);
}
