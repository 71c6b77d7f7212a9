// Which nodes a fault took down or froze, for every topology alike: kill and stop mark a node down
// before they act (a fault that fails midway still counts), a start that succeeds marks it up, freeze
// and thaw likewise, and restore() thaws every node still frozen and starts every node still down, so
// the next guard file finds the cluster whole.
import type { Faults } from './types.js';

export class DownNodes {
  readonly #down = new Set<string>();
  readonly #frozen = new Set<string>();
  #thaw: ((node: string) => Promise<void>) | undefined;

  /** The faults, with kill, stop, start, freeze and thaw keeping the record. */
  track(faults: Faults): Faults {
    this.#thaw = faults.thaw;
    type NodeOp = (node: string) => Promise<void>;
    // A fault marks before it acts (one that fails midway still counts); its undoing clears after.
    const marking = (op: NodeOp | undefined, set: Set<string>): NodeOp | undefined =>
      op &&
      (async (node) => {
        set.add(node);
        await op(node);
      });
    const clearing = (op: NodeOp | undefined, set: Set<string>): NodeOp | undefined =>
      op &&
      (async (node) => {
        await op(node);
        set.delete(node);
      });
    const tracked = {
      kill: marking(faults.kill, this.#down),
      stop: marking(faults.stop, this.#down),
      start: clearing(faults.start, this.#down),
      freeze: marking(faults.freeze, this.#frozen),
      thaw: clearing(faults.thaw, this.#frozen),
    };
    return {
      ...faults,
      ...Object.fromEntries(Object.entries(tracked).filter(([, op]) => op !== undefined)),
    };
  }

  /** Whether a fault left a node down or frozen that restore() has not brought back yet. */
  pending(): boolean {
    return this.#down.size > 0 || this.#frozen.size > 0;
  }

  /**
   * Thaws each node still frozen, then starts each node still down with `start` (the topology's own:
   * it may find one already up).
   */
  async restore(start: (node: string) => Promise<void>): Promise<void> {
    for (const node of [...this.#frozen]) {
      await this.#thaw?.(node);
      this.#frozen.delete(node);
    }
    for (const node of [...this.#down]) {
      await start(node);
      this.#down.delete(node);
    }
  }
}
