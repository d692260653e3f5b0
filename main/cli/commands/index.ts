import type { CliCommand } from '../command.ts';
import { doctor } from './doctor.ts';
import { history } from './history.ts';
import { inspect } from './inspect.ts';

/** Every `edgewise` sub-command, in the order `edgewise --help` lists them. */
export const commands: CliCommand[] = [doctor, history, inspect];
