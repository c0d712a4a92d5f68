/**
 * Idle memory trim: once the process has been quiet for a few seconds after its heap grew (a
 * burst of runs), one memory-reducing garbage collection gives V8's spare memory back to the
 * system.
 *
 * Why: a burst grows V8's young generation to its maximum (2 × 16 MB semi-spaces on Node 20
 * and 22, about 100 MB on Node 24) and leaves old-space pages committed but free. An idle
 * process allocates almost nothing, so no collection runs to shrink them; V8's own memory
 * reducer gets to it only after 40 s or more, sometimes never (Node 24). Measured on a server
 * holding 10,000 runs waiting at gates, this trim takes the resident set from 175–310 MB to
 * about 100–120 MB within seconds (docs/runtime.md, Memory).
 *
 * How: V8's `gc` function, taken once without exposing it anywhere: the `--expose-gc` flag is
 * switched on only while one fresh `vm` context is created and read, and off again at once —
 * synchronously, at a moment when no sandbox worker is starting (a worker's context created in
 * that instant would see `gc`). The main context, later `vm` contexts and workers never have a
 * global `gc`. A process started with `--expose-gc` has its own `gc`, which is used as is.
 * - V8 12 and later (Node 22, 24): one `gc({ type: 'major', flavor: 'last-resort' })`, V8's
 *   memory-reducing collection (what it runs on memory pressure): shrinks the young generation,
 *   compacts, releases free and pooled pages. 50–150 ms of main-thread time, once per burst.
 * - V8 11 (Node 20), whose `gc` has no such flavour: a full collection; then, still quiet 5 s
 *   later, a young-generation collection, which shrinks the young generation because the recent
 *   allocation rate is low, and a second full one, which releases the old-space pages the first
 *   one's sweeping emptied.
 *
 * When: checked every `CHECK_MS` by one unreferenced timer (it never keeps the process alive).
 * Quiet means the event loop was busy less than 5% of the time over `IDLE_TRIM_MS`; worth it
 * means the heap holds more than 8 MB of committed-but-unused memory; and at most once per
 * `MIN_INTERVAL_MS`. A steadily busy process is never interrupted; an idle one is trimmed once.
 */
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { sandboxWorkersStarting } from '../sandbox/pool.ts';

/** The process must have been quiet this long before a trim. */
export const IDLE_TRIM_MS = 5000;
const CHECK_MS = 1000;
/** Event-loop utilisation under which a check interval counts as quiet. */
const QUIET_UTILIZATION = 0.05;
/** Committed but unused heap worth giving back. */
const SLACK_BYTES = 8 * 1024 * 1024;
const MIN_INTERVAL_MS = 30_000;
/** Node 20: the young-generation collection that shrinks it comes this long after the full one. */
const SECOND_STEP_MS = 5000;
/** Node 20: young-generation steps per trim at most (a step that shrank nothing is tried again later). */
const MAX_YOUNG_STEPS = 3;

type GcFunction = (options?: unknown) => unknown;

/** What the trim has done in this process (tests, benchmarks). */
export interface IdleTrimStats {
  /** Memory-reducing collections run (on Node 20: full collections). */
  trims: number;
  /** Node 20's second step (a young-generation collection, then a full one) 5 s after the first. */
  youngTrims: number;
  /** Main-thread time spent in them, ms. */
  pauseMs: number;
  /** Whether the timer runs (an engine that trims is open). */
  running: boolean;
}

const stats = { trims: 0, youngTrims: 0, pauseMs: 0 };
let users = 0;
let timer: NodeJS.Timeout | undefined;
let lastElu: ReturnType<typeof performance.eventLoopUtilization> | undefined;
let quietSince: number | undefined;
let lastTrimAt = Number.NEGATIVE_INFINITY;
/** Node 20: when the full collection ran whose young-generation step is still due. */
let secondStepDue: number | undefined;
/** Node 20: young-generation steps taken since the last full collection. */
let youngSteps = 0;
let gcFn: GcFunction | undefined;
let gcUnavailable = false;

const lastResortFlavour = Number(process.versions.v8.split('.')[0]) >= 12;

/**
 * Starts the process-wide idle trim for one user (an engine); returns its release function.
 * The timer runs while at least one user holds it.
 */
export function retainIdleTrim(): () => void {
  users++;
  if (!timer) {
    lastElu = performance.eventLoopUtilization();
    quietSince = undefined;
    timer = setInterval(check, CHECK_MS);
    timer.unref();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    users--;
    if (users === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

export function idleTrimStats(): IdleTrimStats {
  return { ...stats, running: timer !== undefined };
}

function check(): void {
  const now = performance.now();
  const elu = performance.eventLoopUtilization(lastElu);
  lastElu = performance.eventLoopUtilization();
  if (elu.utilization >= QUIET_UTILIZATION) {
    quietSince = undefined;
    return;
  }
  // The interval just measured was quiet: the quiet period started at its beginning.
  quietSince ??= now - CHECK_MS;
  if (now - quietSince < IDLE_TRIM_MS) return;
  if (secondStepDue !== undefined) {
    if (now >= secondStepDue) youngStep();
    return;
  }
  if (now - lastTrimAt < MIN_INTERVAL_MS || unusedHeap() < SLACK_BYTES) return;
  trimNow();
}

/** Committed heap memory that holds no live object. */
function unusedHeap(): number {
  const h = v8.getHeapStatistics();
  return h.total_physical_size - h.used_heap_size;
}

/**
 * Runs the memory-reducing collection now (the timer calls it when the process is quiet).
 * Returns false when V8's `gc` could not be had safely at this moment (a sandbox worker is
 * starting); the next quiet check tries again.
 */
export function trimNow(): boolean {
  const gc = memoryGc();
  if (!gc) return false;
  const t0 = performance.now();
  if (lastResortFlavour) gc({ type: 'major', flavor: 'last-resort' });
  else {
    gc();
    secondStepDue = t0 + SECOND_STEP_MS;
    youngSteps = 0;
  }
  const t1 = performance.now();
  stats.trims++;
  stats.pauseMs += t1 - t0;
  lastTrimAt = t1;
  return true;
}

/**
 * V8 11 shrinks the young generation in a young collection only when the allocation rate of the
 * last few seconds was low; on a loaded machine (a process descheduled, a late timer) its
 * estimate can miss that, and the step shrinks nothing. Such a step is taken again, still quiet,
 * `SECOND_STEP_MS` later, up to `MAX_YOUNG_STEPS` times.
 */
function youngStep(): void {
  secondStepDue = undefined;
  const gc = memoryGc();
  if (!gc) return;
  const before = youngGenerationBytes();
  const t0 = performance.now();
  gc(true); // V8 11: a truthy argument means a young-generation collection
  gc(); // and the old-space pages the first collection's sweeping emptied go back
  const t1 = performance.now();
  stats.youngTrims++;
  stats.pauseMs += t1 - t0;
  youngSteps++;
  if (youngGenerationBytes() >= before && youngSteps < MAX_YOUNG_STEPS) secondStepDue = t1 + SECOND_STEP_MS;
}

function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0;
}

/** V8's `gc`, taken once (see the module comment); undefined while a sandbox worker starts. */
function memoryGc(): GcFunction | undefined {
  if (gcFn || gcUnavailable) return gcFn;
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') {
    gcFn = own as GcFunction;
    return gcFn;
  }
  if (sandboxWorkersStarting() > 0) return undefined;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as unknown;
    if (typeof fn === 'function') gcFn = fn as GcFunction;
    else gcUnavailable = true;
  } catch {
    gcUnavailable = true; // no trim in this process
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  return gcFn;
}
