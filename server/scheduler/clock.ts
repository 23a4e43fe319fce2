/**
 * Time as the scheduler sees it. The daemon uses the system clock; tests inject a manual clock so that DST
 * changes, month ends and misfires are covered without sleeping.
 */

/** Cancels a timer set with `Clock.setTimer`; calling it twice is harmless. */
export type CancelTimer = () => void;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once, at or after the epoch millisecond `at` (at once when `at` is past). */
  setTimer(at: number, fn: () => void): CancelTimer;
}

/** setTimeout cannot wait longer than 2^31-1 ms (~24.8 days); longer waits re-arm. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(at, fn) {
    let timer: NodeJS.Timeout | undefined;
    let cancelled = false;
    const arm = (): void => {
      const wait = at - Date.now();
      if (wait <= 0) {
        fn();
        return;
      }
      timer = setTimeout(() => {
        if (!cancelled) arm();
      }, Math.min(wait, MAX_TIMEOUT_MS));
      // A pending schedule must not keep a process alive that is otherwise done (tests, benchmarks).
      timer.unref();
    };
    arm();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  },
};

/**
 * A clock that moves only when told to (tests and benchmarks). `set(at)`/`advance(ms)` move time to the
 * target first, then fire the timers due by then in time order: `now()` reads the target time, as it would
 * for a process that slept through the interval (which is how a misfire looks).
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 0;

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(at: number, fn: () => void): CancelTimer {
    const id = this.nextId++;
    this.timers.set(id, { at, fn });
    return () => {
      this.timers.delete(id);
    };
  }

  /** Timers waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward to `at` and fires every timer due by then (timers set while firing included). */
  set(at: number): void {
    this.current = Math.max(this.current, at);
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= this.current && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) return;
      this.timers.delete(due[0]);
      due[1].fn();
    }
  }

  advance(ms: number): void {
    this.set(this.current + ms);
  }
}
