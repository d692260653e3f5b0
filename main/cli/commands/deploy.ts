import type { DeployResult } from '../../../preload/contract.ts';
import { openHistory } from '../../history/index.ts';
import { DeviceService } from '../../devices/service.ts';
import { CliError, type CliCommand } from '../command.ts';

export const deploy: CliCommand = {
  usage: 'edgewise deploy <variant id | file_edgetpu.tflite> [--device <path>] [--runs N] [--cpu-twin <x.tflite>] [--firmware <file>] [--json]',
  options: {
    device: { type: 'string' },
    runs: { type: 'string' },
    'cpu-twin': { type: 'string' },
    firmware: { type: 'string' },
  },
  async run(positionals, options, ctx) {
    const target = positionals[0];
    if (!target) throw new CliError('INVALID_ARGUMENT', 'Give a variant id or a compiled model file.', this.usage);
    const runs = options.runs === undefined ? undefined : Number(options.runs);
    if (runs !== undefined && !(Number.isInteger(runs) && runs >= 1)) throw new CliError('INVALID_ARGUMENT', `--runs must be a positive integer, got "${String(options.runs)}".`);
    const isFile = /\.tflite$/i.test(target) || target.includes('/') || target.includes('\\');
    const history = openHistory(ctx.dataDir);
    try {
      const service = new DeviceService({ history });
      return await service.deploy(
        {
          ...(isFile ? { file: target } : { variantId: target }),
          ...(typeof options.device === 'string' ? { device: options.device } : {}),
          ...(runs !== undefined ? { runs } : {}),
          ...(typeof options['cpu-twin'] === 'string' ? { cpuTwin: options['cpu-twin'] } : {}),
          ...(typeof options.firmware === 'string' ? { firmware: options.firmware } : {}),
        },
        (m) => ctx.progress(m),
      );
    } finally {
      history.close();
    }
  },
  format(r: DeployResult) {
    const f = (x: number) => x.toFixed(2);
    return [
      `${r.model} on ${r.device} (${r.linkSpeed === 'super' ? 'USB 3' : r.linkSpeed === 'high' ? 'USB 2' : r.linkSpeed})${r.firmwareLoaded ? `, firmware loaded in ${r.firmwareMs.toFixed(0)} ms` : ''}`,
      `cold (first inference, parameter caching): ${f(r.coldMs)} ms`,
      `warm over ${r.runs} runs: p50 ${f(r.warmP50Ms)} ms, p90 ${f(r.warmP90Ms)} ms, min ${f(r.warmMinMs)} ms; ${r.throughputPerSec.toFixed(1)} inferences/s`,
      ...(r.parts && r.parts.cpuSegments ? [`parts: ${r.parts.description}; warm p50 CPU ${f(r.parts.warmCpuP50Ms)} ms + Edge TPU ${f(r.parts.warmTpuP50Ms)} ms`] : []),
      `outputs vs CPU runtime: ${r.agreement.checked ? (r.agreement.agree ? 'agree' : 'DIFFER') + ` (${r.agreement.detail})` : r.agreement.detail}`,
      ...r.warnings.map((w) => `warning: ${w}`),
      ...(r.benchmarkId ? [`stored as benchmark ${r.benchmarkId} of variant ${r.variantId}`] : []),
    ].join('\n');
  },
};
