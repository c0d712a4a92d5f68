/**
 * How an attempt in flight is aborted (cancelled, timed out, its run lost or finished). Aborting
 * settles the attempt at once through `aborted`, even when its executor ignores the signal.
 *
 * The executor's AbortSignal is made when the executor first reads it: most built-in nodes and
 * many tools never do, and an AbortController, its signal and an abort listener were about a
 * twentieth of the engine's CPU per step of a chain. A signal read after the abort is made
 * aborted already, with the same reason.
 */
export class AttemptAbort {
  private controller: AbortController | undefined;
  private reject!: (reason: unknown) => void;
  private done = false;
  private why: unknown;
  /** Rejects with the reason once aborted; never resolves. */
  readonly aborted: Promise<never>;

  constructor() {
    this.aborted = new Promise<never>((_, reject) => {
      this.reject = reject;
    });
    this.aborted.catch(() => {});
  }

  /** The executor's signal (made on first read). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.done) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }

  /** Aborts the attempt; a second abort changes nothing (the first reason stays). */
  abort(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    this.why = reason;
    this.reject(reason);
    this.controller?.abort(reason);
  }
}
