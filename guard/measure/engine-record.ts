// The containers the nodes created, read from the recording proxy's log (engine-proxy.ts) by a guard
// file: every create asked for since the file opened, with the route and the node name it asked for,
// and whether the engine made it. Nothing is looked up after the fact, so nothing can be lost to a
// container removed at once; only a create whose answer never came (the node hung up first) is
// uncertain, and is counted as lost, which makes the counts lower bounds as with the event watch.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { tryWaitUntil } from '../../helpers/wait.js';
import type { CreateAsked, EngineLogLine } from './engine-proxy.js';
import type { ContainersSeen, SeenContainer } from './engine-watch.js';

/** The log counts as settled after this long without a new line and with every create answered. */
const QUIET_MS = 300;
const SETTLE_TIMEOUT_MS = 10_000;
const READ_CHUNK = 64 * 1024;

export class EngineRecord implements ContainersSeen {
  readonly source = 'the nodes’ create requests to the Docker engine (recording proxy)';
  readonly lostMeans = 'asked for by a node that hung up before the engine answered, or unreadable';
  readonly #fd: number;
  #offset: number;
  #partial = '';
  /** A character split between two reads is decoded whole. */
  readonly #decoder = new StringDecoder('utf8');
  #lastLineAt = performance.now();
  readonly #asked = new Map<number, CreateAsked>();
  readonly #answered = new Map<number, number | null>();
  #stoppedCounting: string | undefined;

  private constructor(fd: number, offset: number) {
    this.#fd = fd;
    this.#offset = offset;
  }

  /** Opens the log at its current end: only creates asked for from now on are the file's. */
  static open(logPath: string): EngineRecord {
    const fd = openSync(logPath, 'r');
    return new EngineRecord(fd, fstatSync(fd).size);
  }

  #readNew(): void {
    const buffer = Buffer.alloc(READ_CHUNK);
    for (;;) {
      const read = readSync(this.#fd, buffer, 0, READ_CHUNK, this.#offset);
      if (read === 0) return;
      this.#offset += read;
      const lines = (this.#partial + this.#decoder.write(buffer.subarray(0, read))).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) if (line !== '') this.#take(JSON.parse(line) as EngineLogLine);
      this.#lastLineAt = performance.now();
    }
  }

  #take(line: EngineLogLine): void {
    if ('answered' in line) {
      this.#answered.set(line.answered.seq, line.answered.status);
    } else if ('uncounted' in line) {
      this.#stoppedCounting = `the engine proxy may have missed creates: ${line.uncounted}`;
    } else {
      this.#asked.set(line.asked.seq, line.asked);
    }
  }

  /** Waits until every create read so far is answered and the log went quiet. */
  async settle(): Promise<string | undefined> {
    const quiet = async () => {
      this.#readNew();
      const unanswered = [...this.#asked.keys()].some((seq) => !this.#answered.has(seq));
      return !unanswered && performance.now() - this.#lastLineAt >= QUIET_MS;
    };
    // Creates still unanswered at the deadline count as lost.
    await tryWaitUntil('the engine proxy log to settle', quiet, SETTLE_TIMEOUT_MS, 50);
    return this.#stoppedCounting;
  }

  containersOf(route: string): SeenContainer[] {
    return [...this.#asked.values()]
      .filter((asked) => asked.route === route && isMade(this.#answered.get(asked.seq)))
      .map((asked) => ({ id: `create-${asked.seq}`, image: asked.image, route, hostname: asked.hostname }));
  }

  /** Creates the engine may have made without the log saying for which route or node. */
  get lost(): number {
    let lost = 0;
    for (const asked of this.#asked.values()) {
      const status = this.#answered.get(asked.seq);
      if (status === null || status === undefined) lost++;
      else if (asked.unreadable !== undefined && isMade(status)) lost++;
    }
    return lost;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

function isMade(status: number | null | undefined): boolean {
  return typeof status === 'number' && status >= 200 && status < 300;
}
