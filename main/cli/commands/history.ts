import type { ModelSummary, VariantSummary } from '../../../preload/contract.ts';
import { openHistory, type History } from '../../history/index.ts';
import { CliError, type CliCommand } from '../command.ts';

type ListResult = { kind: 'list'; models: ModelSummary[]; variants: VariantSummary[]; totalModels: number; totalVariants: number };
type ShowResult =
  | { kind: 'model'; model: ModelSummary; variants: ReturnType<History['variantTree']> }
  | { kind: 'variant'; variant: ReturnType<History['getVariantDetail']>; lineage: VariantSummary[] };

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(2)} MiB`;
}

function variantLine(v: VariantSummary, indent = ''): string {
  const size = v.artifact ? `${formatBytes(v.artifact.size)} (gz ${formatBytes(v.artifact.gzipSize)})` : 'no artifact';
  const metrics = v.metrics.map((m) => `${m.name}=${Number(m.value.toPrecision(4))}`).join(' ');
  return `${indent}${v.id}  ${v.name}  [${v.status}]  ${size}${metrics ? `  ${metrics}` : ''}`;
}

function show(history: History, id: string): ShowResult {
  try {
    const model = history.getModel(id);
    return { kind: 'model', model, variants: history.variantTree(id) };
  } catch {
    try {
      return { kind: 'variant', variant: history.getVariantDetail(id), lineage: history.lineage(id) };
    } catch {
      throw new CliError('NOT_FOUND', `No model or variant with id "${id}" in the history`, 'List them with `edgewise history list`.');
    }
  }
}

export const history: CliCommand = {
  usage: 'edgewise history list [--model <id>] [--search <text>] [--limit <n>] [--json] | edgewise history show <id> [--json]',
  options: { model: { type: 'string' }, search: { type: 'string' }, limit: { type: 'string' } },
  async run([action, id], options, ctx) {
    const store = openHistory(ctx.dataDir);
    try {
      if (action === 'list') {
        const limit = options.limit === undefined ? 50 : Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new CliError('INVALID_ARGUMENT', `--limit must be a positive whole number, not "${options.limit}"`);
        const models = store.listModels({ limit: 1000 });
        const variants = store.listVariants({
          limit,
          modelId: options.model as string | undefined,
          search: options.search as string | undefined,
        });
        return { kind: 'list', models: models.items, variants: variants.items, totalModels: models.total, totalVariants: variants.total } satisfies ListResult;
      }
      if (action === 'show') {
        if (!id) throw new CliError('INVALID_ARGUMENT', 'history show needs an id', 'Usage: edgewise history show <id>');
        return show(store, id);
      }
      throw new CliError('INVALID_ARGUMENT', `Unknown history action "${action ?? ''}": use "list" or "show <id>"`);
    } finally {
      store.close();
    }
  },
  format(result: ListResult | ShowResult) {
    if (result.kind === 'list') {
      if (result.totalModels === 0) return 'The history is empty: optimize a model with the app or `edgewise optimize`.';
      return [
        `${result.totalModels} model(s):`,
        ...result.models.map((m) => `  ${m.id}  ${m.name}  ${m.format}  ${m.parameterCount.toLocaleString()} params  ${m.variantCount} variant(s)`),
        `${result.totalVariants} variant(s)${result.variants.length < result.totalVariants ? ` (showing ${result.variants.length})` : ''}:`,
        ...result.variants.map((v) => variantLine(v, '  ')),
      ].join('\n');
    }
    if (result.kind === 'model') {
      const walk = (nodes: typeof result.variants, depth: number): string[] =>
        nodes.flatMap((n) => [variantLine(n, '  '.repeat(depth + 1)), ...walk(n.children, depth + 1)]);
      const m = result.model;
      return [`${m.name} (${m.format}, ${m.path})`, `  sha256 ${m.sha256}`, `  ${m.parameterCount.toLocaleString()} parameters`, 'Variants:', ...walk(result.variants, 0)].join('\n');
    }
    const v = result.variant;
    return [
      variantLine(v),
      `  lineage: model ${v.modelId}${result.lineage.map((a) => ` → ${a.name}`).join('')} → ${v.name}`,
      `  recipe: ${JSON.stringify(v.recipe)}`,
      ...v.benchmarks.map((b) => `  benchmark: ${JSON.stringify(b)}`),
    ].join('\n');
  },
};
