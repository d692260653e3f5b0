/**
 * The shape of one `edgewise` sub-command. Each command lives in `main/cli/commands/<name>.ts` and is listed,
 * with its one-line summary, in `main/cli/commands/index.ts`. A command returns a plain JSON-able value: the CLI prints it as JSON with
 * `--json`, or hands it to the command's `format` for people. Errors are thrown as `CliError` (or any Error
 * carrying an `ApiError`-style `code`), which the CLI prints and turns into a non-zero exit code.
 */
import type { ParseArgsConfig } from 'node:util';
import type { ErrorCode } from '../../preload/contract.ts';

export interface CliContext {
  /** The data folder (EDGEWISE_HOME or the per-user default). */
  dataDir: string;
  json: boolean;
  /** Progress lines for people; silent with --json (goes to stderr so stdout stays parseable). */
  progress(message: string): void;
}

/** A command as `edgewise --help` lists it; the module behind it is loaded only to run it. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<CliCommand>;
}

export interface CliCommand {
  /** e.g. `edgewise inspect <model> [--json]` */
  usage: string;
  options?: ParseArgsConfig['options'];
  run(positionals: string[], options: Record<string, string | boolean | (string | boolean)[] | undefined>, ctx: CliContext): Promise<unknown>;
  /** Human-readable rendering of the result; JSON is printed when absent. */
  format?(result: any): string;
}

export class CliError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
