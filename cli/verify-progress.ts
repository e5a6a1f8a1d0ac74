// What verify shows while it runs. On a terminal, one line redrawn at most
// a few times a second; in a log, a line at each depth completed and, in
// between, one at most every ten seconds, so an overnight run's log shows
// it is alive without growing by a line per state.

import type { VerifyProgress } from '../api/verify.ts';

export interface ProgressSink {
  /** Redraw the line (terminal) or write it as a new one (log). */
  write(line: string): void;
  /** A line that stays: the next redraw goes below it. */
  line(text: string): void;
  /** Clear the redrawn line before other output. */
  clear(): void;
  now(): number;
}

const TTY_EVERY_MS = 250;
const LOG_EVERY_MS = 10_000;

export class VerifyProgressLine {
  private last = -Infinity;
  private readonly started: number;
  private phaseLabel = '';

  constructor(private readonly sink: ProgressSink, private readonly tty: boolean, private readonly implName: string) {
    this.started = sink.now();
  }

  /** A level completed: on a log this is always worth a line. */
  depth(depth: number, states: number, transitions: number): void {
    const line = `depth ${depth} complete: ${states} distinct states, ${transitions} transitions (${this.elapsed()})`;
    this.emit(line, !this.tty);
  }

  progress(p: VerifyProgress): void {
    if (p.phase === 'start') {
      // Said once, whatever the output: it explains a run that grows fast.
      if (!p.stateHashed) {
        this.sink.line(`note: ${this.implName}'s state cannot be read, so every op sequence is a state of its own: `
          + `about ${p.ops}^d states at depth d; exploring to depth ${p.depth} (--depth sets it, --ops makes the alphabet smaller)`);
      } else if (p.replayed) {
        this.sink.line(`note: ${this.implName}'s state is read through its state(), but cannot be copied, so each op replays the path to its state: `
          + `exploring to depth ${p.depth} (--depth sets it, --ops makes the alphabet smaller)`);
      }
      return;
    }
    if (p.phase === 'found') {
      // Said at once: an overnight run's log shows what it has found so far.
      this.sink.line(`found ${p.race ? 'a race' : 'a counterexample'}: ${p.signature} (${p.ops} ops${p.race ? '; a shorter one may follow' : ', a shortest one'}) (${this.elapsed()})`);
      return;
    }
    const line = p.phase === 'states'
      ? `depth ${p.depth + 1}: ${p.done}/${p.of} states of depth ${p.depth} expanded, ${p.states} distinct states, ${p.transitions} transitions (${this.elapsed()})`
      : `pairs: from ${p.done}/${p.of} states (${this.elapsed()})`;
    if (p.phase !== this.phaseLabel) this.last = -Infinity;
    this.phaseLabel = p.phase;
    this.emit(line, !this.tty && p.phase === 'pairs' && p.done === p.of);
  }

  /** Before the results: the redrawn line goes. */
  end(): void {
    if (this.tty) this.sink.clear();
  }

  private emit(line: string, always: boolean): void {
    const now = this.sink.now();
    if (!always && now - this.last < (this.tty ? TTY_EVERY_MS : LOG_EVERY_MS)) return;
    this.last = now;
    this.sink.write(line);
  }

  private elapsed(): string {
    return `${Math.round((this.sink.now() - this.started) / 1000)} s`;
  }
}

/** Standard error as a progress sink: redrawn on a terminal, lines otherwise. */
export function stderrSink(tty: boolean): ProgressSink {
  return {
    write: (line) => process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`),
    line: (text) => process.stderr.write(tty ? `\r\x1b[K${text}\n` : `${text}\n`),
    clear: () => {
      if (tty) process.stderr.write('\r\x1b[K');
    },
    now: () => Date.now(),
  };
}
