/**
 * In-process fan-out of committed events. The runner publishes a batch's events right after its
 * transaction commits; subscribers replay the log from the store first and then receive live
 * events, with no gap and no duplicate at the seam (see subscribe in the engine).
 */
import type { RunEvent } from '@trellis/core';

export type EventListener = (event: RunEvent) => void;

export class EventHub {
  private readonly listeners = new Map<string, Set<EventListener>>();
  /** Listeners to every event of runs executed in this process (tracing); usually none. */
  private readonly all = new Set<EventListener>();

  on(runId: string, listener: EventListener): () => void {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(runId) === set) this.listeners.delete(runId);
    };
  }

  /**
   * Listens to every event committed by this process (not the events of runs executed
   * elsewhere that are relayed to local subscribers).
   */
  onAll(listener: EventListener): () => void {
    this.all.add(listener);
    return () => {
      this.all.delete(listener);
    };
  }

  /** `origin` 'remote': an event committed by another worker, relayed to local subscribers. */
  publish(event: RunEvent, origin: 'local' | 'remote' = 'local'): void {
    if (this.all.size > 0 && origin === 'local') {
      for (const l of this.all) {
        try {
          l(event);
        } catch {
          // Same as below: an observer never stalls the runner.
        }
      }
    }
    const set = this.listeners.get(event.runId);
    if (!set) return;
    for (const l of [...set]) {
      try {
        l(event);
      } catch {
        // A failing subscriber must never stall the runner or other subscribers.
      }
    }
  }

  subscriberCount(runId: string): number {
    return this.listeners.get(runId)?.size ?? 0;
  }
}

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(['run.succeeded', 'run.failed', 'run.cancelled']);
