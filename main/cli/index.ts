/**
 * `edgewise` — the command line over the same services the app uses.
 * Every command prints a human summary, or JSON with --json; any error exits non-zero with a readable message
 * (and, with --json, `{ "error": { code, message, hint } }` on stdout so scripts can parse it).
 */
import { parseArgs } from 'node:util';
import { dataDir } from '../paths.ts';
import { commands } from './commands/index.ts';
import type { CliContext } from './command.ts';

/** Exit codes: 1 = the command failed (bad input, device error, …), 2 = usage error. */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: edgewise <command> [options]    (every command takes --json)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Data folder: $EDGEWISE_HOME, or the per-user default (see `edgewise doctor`).',
  ].join('\n');
}

function errorPayload(error: unknown): { code: string; message: string; hint?: string } {
  const e = error as { code?: unknown; message?: unknown; hint?: unknown };
  return {
    code: typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code) ? e.code : 'INTERNAL',
    message: typeof e?.message === 'string' ? e.message : String(error),
    ...(typeof e?.hint === 'string' ? { hint: e.hint } : {}),
  };
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(helpText());
    return name ? 0 : EXIT_USAGE;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    console.error(`edgewise: unknown command "${name}".\n\n${helpText()}`);
    return EXIT_USAGE;
  }
  const command = await entry.load();
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    console.error(`edgewise ${name}: ${(error as Error).message}\nUsage: ${command.usage}`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    console.log(`${entry.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  const json = parsed.values.json === true;
  const ctx: CliContext = {
    dataDir: dataDir(),
    json,
    progress: (message) => {
      if (!json) process.stderr.write(`${message}\n`);
    },
  };
  try {
    const result = await command.run(parsed.positionals, parsed.values, ctx);
    if (json) console.log(JSON.stringify(result, null, 2));
    else console.log(command.format ? command.format(result) : JSON.stringify(result, null, 2));
    return 0;
  } catch (error) {
    const payload = errorPayload(error);
    if (json) console.log(JSON.stringify({ error: payload }, null, 2));
    console.error(`edgewise ${name}: ${payload.message}${payload.hint ? `\n  → ${payload.hint}` : ''}`);
    if (payload.code === 'INTERNAL' && process.env.EDGEWISE_DEBUG) console.error(error);
    return EXIT_FAILED;
  }
}

process.exitCode = await main(process.argv.slice(2));
