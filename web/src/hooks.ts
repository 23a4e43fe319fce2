/**
 * Small hooks shared by the views: load data (and reload it), and reload it when live events say it
 * changed (debounced, so a burst of events costs one request).
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { RunEvent, RunEventKind } from "../../server/contract";
import { ApiError } from "./api";
import { live, type LiveTarget } from "./live";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const generation = useRef(0);
  // `deps` say when `load` means something new (the caller's closure changes every render).
  const run = useCallback(load, deps);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    run().then(
      (data) => mine === generation.current && setState({ data, error: undefined, loading: false }),
      (err: unknown) =>
        mine === generation.current &&
        setState((s) => ({
          data: s.data,
          error: err instanceof ApiError ? err : new ApiError(0, { code: "TAU_E_INTERNAL", message: String(err), hint: "" }),
          loading: false,
        })),
    );
  }, [run]);
  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: true });
    reload();
  }, [reload]);
  return { ...state, reload };
}

/** Calls `onChange` (at most every `waitMs`) after events of `kinds` on `target`, and after a reconnect. */
export function useLiveRefresh(target: LiveTarget | null, kinds: RunEventKind[], onChange: (e?: RunEvent) => void, waitMs = 250): void {
  const latest = useRef(onChange);
  latest.current = onChange;
  const key = target === null ? "" : JSON.stringify(target);
  useEffect(() => {
    if (target === null) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fire = (e?: RunEvent): void => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        latest.current(e);
      }, waitMs);
    };
    // Only what happens from now on (the view has just loaded the current state over HTTP); a later
    // `subscribed` means a reconnect, after which the view reloads whatever it may have missed.
    let first = true;
    const stop = live.subscribe(
      target,
      {
        onEvent: (e) => fire(e),
        onLive: () => {
          if (!first) fire();
          first = false;
        },
      },
      { from: "now", kinds },
    );
    return () => {
      clearTimeout(timer);
      stop();
    };
    // The target and kinds by value: callers pass fresh object and array literals on every render.
  }, [key, kinds.join()]);
}

/** Re-renders every `ms` (relative times, a running step's growing bar). */
export function useTick(ms: number, active = true): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms, active]);
  return now;
}

/** The content width of an element, kept up to date (charts draw at real pixel size, so text keeps its size). */
export function useWidth<T extends HTMLElement>(fallback: number): [import("preact").RefObject<T>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = (): void => setWidth(Math.max(320, Math.floor(el.clientWidth)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}
