// Which nodes a fault took down, for every topology alike: kill and stop mark a node down before
// they act (a fault that fails midway still counts), a start that succeeds marks it up, and restore()
// starts every node still down, so the next guard file finds the cluster whole.
import type { Faults } from './types.js';

export class DownNodes {
  readonly #down = new Set<string>();

  /** The faults, with kill, stop and start keeping the record. */
  track(faults: Faults): Faults {
    const { kill, stop, start } = faults;
    return {
      ...faults,
      ...(kill && {
        kill: async (node: string) => {
          this.#down.add(node);
          await kill(node);
        },
      }),
      ...(stop && {
        stop: async (node: string) => {
          this.#down.add(node);
          await stop(node);
        },
      }),
      ...(start && {
        start: async (node: string) => {
          await start(node);
          this.#down.delete(node);
        },
      }),
    };
  }

  /** Whether a fault left a node down that restore() has not brought back yet. */
  pending(): boolean {
    return this.#down.size > 0;
  }

  /** Starts each node still down with `start` (the topology's own: it may find one already up). */
  async restore(start: (node: string) => Promise<void>): Promise<void> {
    for (const node of [...this.#down]) {
      await start(node);
      this.#down.delete(node);
    }
  }
}
