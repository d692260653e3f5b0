/**
 * The event hub: services publish `ApiEvent`s, transports (Electron IPC, the web test host's sockets, tests)
 * subscribe. A listener that throws is logged and dropped from that delivery only, so one broken window
 * cannot stop the others from hearing about a job.
 */
import type { ApiEvent } from '../../preload/contract.ts';

export type EventListener = (event: ApiEvent) => void;

export class EventHub {
  readonly #listeners = new Set<EventListener>();

  publish(event: ApiEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        console.error('edgewise: an event listener threw', error);
      }
    }
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }
}
