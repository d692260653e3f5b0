import type { CliCommand } from '../command.ts';
import { compile } from './compile.ts';
import { convert } from './convert.ts';
import { deploy } from './deploy.ts';
import { devices } from './devices.ts';
import { doctor } from './doctor.ts';
import { history } from './history.ts';
import { inspect } from './inspect.ts';
import { optimize } from './optimize.ts';
import { evaluate } from './evaluate.ts';
import { benchmark } from './benchmark.ts';

/** Every `edgewise` sub-command, in the order `edgewise --help` lists them. */
export const commands: CliCommand[] = [doctor, history, inspect, optimize, evaluate, benchmark, convert, compile, devices, deploy];
