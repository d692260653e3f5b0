import type { CliCommand } from '../command.ts';
import { inspect } from './inspect.ts';

/** Every `edgewise` sub-command, in the order `edgewise --help` lists them. */
export const commands: CliCommand[] = [inspect];
