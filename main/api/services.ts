/**
 * The services the API layer calls, wired once per process: the history store, the job runner, the doctor,
 * the picked-file handles and the event hub. The Electron shell, the web test host and tests all build them
 * with `createServices` so every transport runs the same real parts.
 */
import { openHistory, toJobSummary } from '../history/index.ts';
import type { History } from '../history/index.ts';
import { EventHub } from './events.ts';
import { FileHandles } from './files.ts';
import type { FilePicker } from './files.ts';
import type { DoctorReport } from '../../preload/contract.ts';

export interface ServicesOptions {
  dataDir: string;
  /** How `files.pick` asks the user: a native dialog in Electron, a test queue in the web test host. */
  picker?: FilePicker | null;
}

export interface Services {
  dataDir: string;
  history: History;
  events: EventHub;
  files: FileHandles;
  doctor(): Promise<DoctorReport>;
  /** Stops jobs and closes the database; safe to call twice. */
  close(): Promise<void>;
}

export function createServices(options: ServicesOptions): Services {
  const history = openHistory(options.dataDir);
  const events = new EventHub();
  let closed = false;
  return {
    dataDir: options.dataDir,
    history,
    events,
    files: new FileHandles(options.picker ?? null),
    async doctor() {
      throw new Error('doctor not wired yet');
    },
    async close() {
      if (closed) return;
      closed = true;
      history.close();
    },
  };
}

export { toJobSummary };
