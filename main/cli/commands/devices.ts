import type { DeviceSummary, DoctorCheck } from '../../../preload/contract.ts';
import { openHistory } from '../../history/index.ts';
import { DeviceService } from '../../devices/service.ts';
import type { CliCommand } from '../command.ts';

const STATE_LABEL: Record<DeviceSummary['state'], string> = { 'needs-firmware': 'needs firmware', ready: 'ready', busy: 'busy', error: 'error' };
const SPEED_LABEL: Record<string, string> = { super: 'USB 3 (5 Gb/s)', high: 'USB 2 (480 Mb/s) — expect several times slower', full: 'USB 1.1', low: 'USB low speed (unsupported)', unknown: 'link speed unknown' };

export const devices: CliCommand = {
  usage: 'edgewise devices [--json]',
  async run(_positionals, _options, ctx) {
    const history = openHistory(ctx.dataDir);
    try {
      const service = new DeviceService({ history });
      return { devices: await service.list(), doctor: await service.doctor() };
    } finally {
      history.close();
    }
  },
  format(r: { devices: DeviceSummary[]; doctor: DoctorCheck[] }) {
    const lines = r.devices.length
      ? r.devices.map((d) => `${d.path}  ${d.usbId}  ${STATE_LABEL[d.state]}  ${SPEED_LABEL[d.linkSpeed] ?? d.linkSpeed}${d.detail ? `\n    ${d.detail}` : ''}`)
      : ['No Coral USB Accelerator found.'];
    lines.push('');
    for (const c of r.doctor) {
      lines.push(`${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`);
      if (!c.ok && c.fix) lines.push(...c.fix.split('\n').map((l) => `    ${l}`));
    }
    return lines.join('\n');
  },
};
