// Which node served a call. The balancer hides it, so, as the historic harness did, each node's id is
// learned by calling the node directly (discovery.ts) and the id a call reports is mapped back to the
// node's address. The body's `hostname` comes first (it is what the function itself saw), then the
// Fn-Node header (deployments whose function does not report it), then fnlb's Fn-Lb-Node, which names
// the node by address already. An id no discovery produced is kept as it is, so a node missing from
// -nodes still shows up in the results instead of vanishing.
import type { Execution } from './execute.js';

export class NodeDirectory {
  readonly #addressById = new Map<string, string>();

  /**
   * `addresses` are the -nodes, in the order the results list them. `trustBalancer: false` ignores
   * Fn-Lb-Node: a guard judging the balancer takes only the nodes' word for where a call ran.
   */
  constructor(
    readonly addresses: string[],
    private readonly options: { trustBalancer: boolean } = { trustBalancer: true },
  ) {}

  /** A node that joined after discovery (a guard adding a node); its id is registered separately. */
  addAddress(address: string): void {
    if (!this.addresses.includes(address)) this.addresses.push(address);
  }

  removeAddress(address: string): void {
    const index = this.addresses.indexOf(address);
    if (index >= 0) this.addresses.splice(index, 1);
    for (const [id, known] of this.#addressById) if (known === address) this.#addressById.delete(id);
  }

  /** Records that `address` reported `id`; returns the address that reported it before, if another. */
  register(id: string, address: string): string | undefined {
    const previous = this.#addressById.get(id);
    if (previous === undefined) this.#addressById.set(id, address);
    return previous !== undefined && previous !== address ? previous : undefined;
  }

  /** Every id `address` is known by (a node may answer with a header name and a function hostname). */
  idsOf(address: string): string[] {
    return [...this.#addressById].filter(([, known]) => known === address).map(([id]) => id);
  }

  /** The first id `address` answered with. */
  idOf(address: string): string | undefined {
    return this.idsOf(address)[0];
  }

  /** The address of the node that reported `id`, if discovery learned it. */
  addressOf(id: string): string | undefined {
    return this.#addressById.get(id);
  }

  /** The node address (or, failing that, the raw id) that served the call; undefined if nothing says. */
  attribute(execution: Pick<Execution, 'hostname' | 'nodeHeader' | 'lbNodeHeader'>): string | undefined {
    for (const id of [execution.hostname, execution.nodeHeader]) {
      const address = id === undefined ? undefined : this.#addressById.get(id);
      if (address !== undefined) return address;
    }
    const lbNode = this.options.trustBalancer ? execution.lbNodeHeader : undefined;
    if (lbNode !== undefined && this.addresses.includes(lbNode)) return lbNode;
    return execution.hostname ?? execution.nodeHeader ?? lbNode;
  }
}
