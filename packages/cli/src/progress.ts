/**
 * Live progress of a run on stderr. Not a TTY: one line per transition (node, status,
 * attempt, duration), stable for logs and scripts. A TTY: the same lines in colour for what
 * matters, plus a compact status line at the bottom that redraws in place.
 */
import type { RunEvent, RunRecord } from '@trellis/core';

const tty = (s: NodeJS.WriteStream) => s.isTTY === true && process.env.NO_COLOR === undefined;
const c = (on: boolean, code: number, s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);

export class Progress {
  private readonly t0 = Date.now();
  private readonly color: boolean;
  private running = new Set<string>();
  private done = 0;
  private cost = 0;
  private statusShown = false;
  private paused = false;
  private finished = false;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly opts: { quiet: boolean; nodes: number },
  ) {
    this.color = tty(out);
  }

  start(runId: string, dbPath: string | undefined): void {
    if (this.opts.quiet) return;
    this.line(`run ${runId}${dbPath ? ` (kept in ${dbPath})` : ''}`);
    if (this.color) {
      this.ticker = setInterval(() => this.drawStatus(), 100);
      this.ticker.unref();
    }
  }

  note(msg: string): void {
    if (!this.opts.quiet) this.line(msg);
  }

  event(e: RunEvent): void {
    const id = e.nodeId ?? '';
    switch (e.type) {
      case 'node.started':
        this.running.add(id);
        return this.show(e, `▶ ${id}`, `started  attempt ${e.data.attempt}`, 36, true);
      case 'node.succeeded':
        this.running.delete(id);
        this.done++;
        return this.show(
          e,
          `✓ ${id}`,
          `succeeded  attempt ${e.data.attempt}  ${e.data.durationMs}ms${e.data.cost?.costUsd ? `  $${e.data.cost.costUsd}` : ''}`,
          32,
        );
      case 'node.failed':
        this.running.delete(id);
        this.done++;
        return this.show(e, `✗ ${id}`, `failed  attempt ${e.data.attempt}  ${e.data.error.code}: ${e.data.error.message}`, 31);
      case 'node.retrying':
        this.running.delete(id);
        return this.show(
          e,
          `↻ ${id}`,
          `retrying  attempt ${e.data.attempt} failed (${e.data.error.code}); next in ${e.data.delayMs}ms`,
          33,
        );
      case 'node.waiting':
        this.running.delete(id);
        return this.show(e, `⏸ ${id}`, `waiting  ${e.data.prompt}`, 35);
      case 'node.skipped':
        this.done++;
        return this.show(e, `· ${id}`, 'skipped', 90, true);
      case 'node.cancelled':
        this.running.delete(id);
        this.done++;
        return this.show(e, `■ ${id}`, 'cancelled', 90);
      case 'node.reused':
        this.done++;
        return this.show(
          e,
          `⤷ ${id}`,
          `reused from run ${e.data.reusedFrom}${e.data.costSavedUsd ? `  saved $${e.data.costSavedUsd}` : ''}${e.data.note ? `  (${e.data.note})` : ''}`,
          34,
          true,
        );
      case 'gate.approved':
        return this.show(e, `✓ ${id}`, `approved by ${e.data.by}`, 32);
      case 'gate.rejected':
        return this.show(e, `✗ ${id}`, `rejected by ${e.data.by}`, 31);
      case 'run.cost':
        this.cost = e.data.totalUsd;
        return;
      case 'run.failed':
        return this.show(e, 'run', `failed  ${e.data.error.code}: ${e.data.error.message}`, 31);
      case 'run.cancelled':
        return this.show(e, 'run', 'cancelled', 33);
      case 'run.succeeded':
        return this.show(e, 'run', 'succeeded', 32);
      case 'run.waiting':
        return this.show(e, 'run', 'waiting for a decision', 35);
      case 'run.queued':
      case 'run.started':
      case 'node.queued':
        return;
      default: {
        const never: never = e;
        return never;
      }
    }
  }

  finish(rec: RunRecord): void {
    if (this.ticker) clearInterval(this.ticker);
    // No status line after this: the run's output follows on stdout, on the same terminal.
    this.finished = true;
    this.clearStatus();
    if (this.opts.quiet) return;
    const secs = ((Date.now() - this.t0) / 1000).toFixed(2);
    this.line(
      `${rec.status} in ${secs}s · ${this.done}/${this.opts.nodes} nodes resolved${rec.costUsd ? ` · $${rec.costUsd.toFixed(4)}` : ''}${rec.costSavedUsd ? ` · $${rec.costSavedUsd.toFixed(4)} saved by reuse` : ''}`,
    );
  }

  pause(): void {
    this.paused = true;
    this.clearStatus();
  }

  resume(): void {
    this.paused = false;
  }

  private show(e: RunEvent, who: string, what: string, colour: number, minor = false): void {
    if (this.opts.quiet || (minor && this.color)) return;
    const at = `+${String(Date.parse(e.at) - this.t0).padStart(6)}ms`;
    this.line(`${c(this.color, 90, at)}  ${c(this.color, colour, who)}  ${what}`);
  }

  private line(s: string): void {
    this.clearStatus();
    this.out.write(`${s}\n`);
    this.drawStatus();
  }

  private drawStatus(): void {
    if (!this.color || this.paused || this.finished || this.opts.quiet) return;
    const secs = ((Date.now() - this.t0) / 1000).toFixed(1);
    const names = [...this.running].slice(0, 3).join(', ') + (this.running.size > 3 ? ', …' : '');
    const text = `${this.done}/${this.opts.nodes} done · ${this.running.size} running${names ? ` (${names})` : ''}${this.cost ? ` · $${this.cost.toFixed(4)}` : ''} · ${secs}s`;
    this.out.write(`\r\u001b[2K${c(true, 90, text)}`);
    this.statusShown = true;
  }

  private clearStatus(): void {
    if (!this.statusShown) return;
    this.out.write('\r\u001b[2K');
    this.statusShown = false;
  }
}
