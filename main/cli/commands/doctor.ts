import type { DoctorReport } from '../../../preload/contract.ts';
import { runDoctor } from '../../doctor.ts';
import type { CliCommand } from '../command.ts';

export const doctor: CliCommand = {
  usage: 'edgewise doctor [--json]',
  run: (_positionals, _options, ctx) => runDoctor(ctx.dataDir),
  format(report: DoctorReport) {
    const lines = report.checks.flatMap((c) => [
      `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`,
      ...(!c.ok && c.fix ? c.fix.split('\n').map((l) => `    ${l}`) : []),
    ]);
    const backends = report.compute.backends.map((b) => `${b.name}${b.available ? '' : ' (unavailable)'}`).join(', ');
    return [
      ...lines,
      '',
      `Compute backends: ${backends}; using ${report.compute.selected}`,
      `Data folder: ${report.dataDir}`,
      `Platform: ${report.platform}`,
      `Versions: ${Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ].join('\n');
  },
};
