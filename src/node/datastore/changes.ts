// The subscriber list both datastores share: delivers each RouteChange to every listener, and keeps one
// listener's exception from failing the write that caused the change or starving the other listeners.
import type { Logger } from 'pino';
import type { RouteChange } from './datastore.js';

export type DatastoreLog = Pick<Logger, 'info' | 'warn' | 'error'>;

export class ChangeListeners {
  readonly #listeners = new Set<(change: RouteChange) => void>();

  constructor(private readonly log: DatastoreLog) {}

  add(listener: (change: RouteChange) => void): () => void {
    // A wrapper per subscription, so subscribing one function twice gives two independent handles.
    const entry = (change: RouteChange) => listener(change);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  emit(change: RouteChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ err, change }, 'datastore change listener failed');
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
