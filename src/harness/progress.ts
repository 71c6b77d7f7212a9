// A one-line progress bar on stderr, used only when stderr is a terminal (never in logs or pipes, and
// never on stdout, which carries the report). Redraws at most every REDRAW_MS; lines written to
// stdout while it shows go through `print`, which wipes the bar first and redraws it after.
import type { WriteStream } from 'node:tty';

const REDRAW_MS = 100;
const WIDTH = 30;

export interface Output {
  /** Writes one line of the report to stdout. */
  print(line: string): void;
}

export class ProgressBar implements Output {
  #done = 0;
  #failed = 0;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #visible = false;
  readonly #started = performance.now();

  constructor(
    private readonly stderr: Pick<WriteStream, 'write'>,
    private readonly stdout: Pick<WriteStream, 'write'>,
    private readonly total: number,
  ) {}

  print(line: string): void {
    const wasVisible = this.#visible;
    this.clear();
    this.stdout.write(`${line}\n`);
    if (wasVisible) this.#draw();
  }

  update(done: number, failed: number): void {
    this.#done = done;
    this.#failed = failed;
    if (performance.now() - this.#lastDraw >= REDRAW_MS || done === this.total) this.#draw();
  }

  clear(): void {
    if (!this.#visible) return;
    this.stderr.write('\r\x1b[K');
    this.#visible = false;
  }

  #draw(): void {
    this.#lastDraw = performance.now();
    const filled = this.total === 0 ? WIDTH : Math.round((this.#done / this.total) * WIDTH);
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1);
    const failed = this.#failed > 0 ? `, ${this.#failed} failed` : '';
    this.stderr.write(
      `\r\x1b[K[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${this.#done}/${this.total} calls${failed}  ${seconds}s`,
    );
    this.#visible = true;
  }
}

/** Plain stdout, when there is no terminal to draw a bar on. */
export function plainOutput(stdout: Pick<WriteStream, 'write'>): Output {
  return { print: (line) => stdout.write(`${line}\n`) };
}
