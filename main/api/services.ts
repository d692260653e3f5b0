/**
 * The services the API layer calls, wired once per process: the history store, the job runner, the doctor,
 * the picked-file handles and the event hub. The Electron shell, the web test host and tests all build them
 * with `createServices` so every transport runs the same real parts.
 */
import { openHistory } from '../history/index.ts';
import type { History } from '../history/index.ts';
import { JobRunner } from '../jobs/index.ts';
import { runDoctor } from '../doctor.ts';
import { EventHub } from './events.ts';
import { FileHandles } from './files.ts';
import type { FilePicker } from './files.ts';
import type { DoctorReport } from '../../preload/contract.ts';
import { DeviceService } from '../devices/service.ts';

/**
 * Job kind → worker module, for every kind the app can run. Features that add a job kind register its worker
 * module here (absolute URL, e.g. `new URL('../optimize/ptq.job.ts', import.meta.url)`).
 */
export const JOB_KINDS: Record<string, URL> = {
  'catalog-download': new URL('../catalog/download.job.ts', import.meta.url),
  optimize: new URL('../optimize/optimize.job.ts', import.meta.url),
};

export interface ServicesOptions {
  dataDir: string;
  /** How `files.pick` asks the user: a native dialog in Electron, a test queue in the web test host. */
  picker?: FilePicker | null;
  /** Extra job kinds (tests register test-only workers); merged over `JOB_KINDS`. */
  workerModules?: Record<string, string | URL>;
}

export interface Services {
  dataDir: string;
  history: History;
  jobs: JobRunner;
  events: EventHub;
  files: FileHandles;
  /** Coral sticks: list, hotplug, deploy, doctor. */
  devices: DeviceService;
  doctor(): Promise<DoctorReport>;
  /** Stops jobs (they become 'interrupted', resumable) and closes the database; safe to call twice. */
  close(): Promise<void>;
}

export function createServices(options: ServicesOptions): Services {
  const history = openHistory(options.dataDir);
  // Orphan artifact files left by a crash mid-write or mid-delete (only files older than 10 minutes).
  history.collectGarbage();
  const events = new EventHub();
  const jobs = new JobRunner({ history, workerModules: { ...JOB_KINDS, ...options.workerModules } });
  const devices = new DeviceService({ history });
  // Job progress and USB plug/unplug reach every transport through the hub.
  const stopJobEvents = jobs.subscribe((event) => events.publish(event));
  const stopDeviceEvents = devices.subscribe(() => events.publish({ type: 'devices' }));
  let closing: Promise<void> | null = null;
  return {
    dataDir: options.dataDir,
    history,
    jobs,
    events,
    files: new FileHandles(options.picker ?? null),
    devices,
    doctor: () => runDoctor(options.dataDir),
    close() {
      closing ??= (async () => {
        await jobs.close();
        stopJobEvents();
        stopDeviceEvents();
        history.close();
      })();
      return closing;
    },
  };
}
