/**
 * Dataset flags shared by `optimize` and `evaluate`: `<flag> <path>` plus preprocessing flags that apply to every
 * dataset of the command (--scale 0-1|-1-1|raw, --mean, --std, --size HxW, --labels, --limit).
 */
import type { ParseArgsConfig } from 'node:util';
import { parseNumberList, type DatasetArgs } from '../../evaluate/dataset-args.ts';
import { CliError } from '../command.ts';

export const DATASET_FLAGS: NonNullable<ParseArgsConfig['options']> = {
  scale: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  size: { type: 'string' },
  labels: { type: 'string' },
  limit: { type: 'string' },
};

export const DATASET_USAGE = '[--scale 0-1|-1-1|raw] [--mean a,b,c] [--std a,b,c] [--size HxW] [--labels <file>] [--limit N]';

type Options = Record<string, string | boolean | (string | boolean)[] | undefined>;

export function positiveInt(options: Options, flag: string): number | undefined {
  const v = options[flag];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new CliError('INVALID_ARGUMENT', `--${flag} must be a positive integer, got "${String(v)}"`);
  return n;
}

export function datasetArgs(location: string, options: Options): DatasetArgs {
  try {
    return {
      location,
      ...(typeof options.labels === 'string' ? { labels: options.labels } : {}),
      ...(typeof options.scale === 'string' ? { scale: options.scale } : {}),
      ...(typeof options.size === 'string' ? { size: options.size } : {}),
      ...(typeof options.mean === 'string' ? { mean: parseNumberList(options.mean, '--mean') } : {}),
      ...(typeof options.std === 'string' ? { std: parseNumberList(options.std, '--std') } : {}),
      ...(options.limit !== undefined ? { limit: positiveInt(options, 'limit') } : {}),
    };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('INVALID_ARGUMENT', e instanceof Error ? e.message : String(e));
  }
}
