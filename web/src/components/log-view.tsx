/**
 * The log tail: a virtualised list (fixed row height; only the rows in view plus a margin are in the DOM),
 * so a run with 10,000+ lines scrolls as smoothly as one with ten. It follows new lines while the reader
 * is at the bottom; scrolling up pauses that (and says so), scrolling back down or "Follow" resumes it.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { LogLine } from "../../../server/contract";
import { clockTime } from "../format";

export const ROW_HEIGHT = 20;
const OVERSCAN = 20;
/** How close to the bottom (px) still counts as "at the bottom". */
const STICKY_PX = 4;
const LEVELS = ["debug", "info", "warn", "error"] as const;

export interface LogViewProps {
  /** The lines, oldest first. The array may be mutated in place (appended to); `version` changes then. */
  lines: LogLine[];
  version: number;
  height?: number;
  /** The failing step, whose lines are marked. */
  errorStep?: string | null;
}

export function LogView({ lines: all, version, height: maxHeight = 360, errorStep }: LogViewProps) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [follow, setFollow] = useState(true);
  const [minLevel, setMinLevel] = useState<(typeof LEVELS)[number]>("debug");
  const [query, setQuery] = useState("");
  const programmatic = useRef(false);
  // Filtering 10,000 lines takes about a millisecond: redo it whenever lines arrive.
  const filtered = minLevel !== "debug" || query.trim() !== "";
  const lines = useMemo(() => {
    if (!filtered) return all;
    const floor = LEVELS.indexOf(minLevel);
    const q = query.trim().toLowerCase();
    return all.filter(
      (l) => LEVELS.indexOf(l.level) >= floor && (q === "" || l.message.toLowerCase().includes(q) || (l.step ?? "").toLowerCase().includes(q)),
    );
  }, [all, version, all.length, minLevel, query, filtered]);
  const total = lines.length;
  // A short log takes only the room it needs; a long one scrolls inside `maxHeight`.
  const height = Math.min(maxHeight, Math.max(3, total) * ROW_HEIGHT + 2);

  // New lines while following: stay pinned to the bottom.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !follow) return;
    const bottom = Math.max(0, total * ROW_HEIGHT - el.clientHeight);
    if (el.scrollTop !== bottom) {
      programmatic.current = true;
      el.scrollTop = bottom;
    }
    setScrollTop(el.scrollTop);
  }, [version, total, follow]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const onScroll = (): void => {
      setScrollTop(el.scrollTop);
      if (programmatic.current) {
        programmatic.current = false;
        return;
      }
      const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - STICKY_PX;
      setFollow(atBottom);
    };
    el.addEventListener("scroll", onScroll, { passive: true });
    return () => el.removeEventListener("scroll", onScroll);
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) {
    const line = lines[i];
    const fields = line.fields && Object.keys(line.fields).length > 0 ? ` ${JSON.stringify(line.fields)}` : "";
    rows.push(
      <div
        key={line.seq}
        class={`log-row level-${line.level}${errorStep && line.step === errorStep ? " in-error-step" : ""}`}
        style={{ top: `${i * ROW_HEIGHT}px` }}
        role="listitem"
        aria-posinset={i + 1}
        aria-setsize={total}
        data-seq={line.seq}
        title={line.message.length > 120 ? line.message + fields : undefined}
      >
        <span class="log-ts">{clockTime(line.ts)}</span>
        <span class="log-level">{line.level}</span>
        {line.step !== null && <span class="log-step">{line.step}</span>}
        <span class="log-msg">
          {line.message}
          <span class="log-fields">{fields}</span>
        </span>
      </div>,
    );
  }

  const resume = (): void => {
    setFollow(true);
  };

  return (
    <div class="log-view">
      <div class="log-toolbar">
        <span aria-live="polite" class="muted">
          {filtered ? `${total.toLocaleString("en-US")} of ` : ""}
          {all.length.toLocaleString("en-US")} {all.length === 1 ? "line" : "lines"}
          {follow ? " · following new lines" : " · paused (scrolled up)"}
        </span>
        <span class="log-filters">
          <label>
            Level
            <select value={minLevel} onChange={(e) => setMinLevel(e.currentTarget.value as (typeof LEVELS)[number])}>
              <option value="debug">all</option>
              <option value="info">info and above</option>
              <option value="warn">warn and above</option>
              <option value="error">error</option>
            </select>
          </label>
          <label>
            Filter
            <input type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} placeholder="text or step" />
          </label>
        </span>
        {!follow && (
          <button type="button" onClick={resume}>
            Follow new lines
          </button>
        )}
      </div>
      <div
        ref={box}
        class="log-scroll"
        style={{ height: `${height}px` }}
        tabIndex={0}
        role="list"
        aria-label={`Log, ${total} lines`}
        data-testid="log"
      >
        <div class="log-spacer" style={{ height: `${total * ROW_HEIGHT}px` }}>
          {rows}
        </div>
        {total === 0 && <p class="log-empty">No log lines yet.</p>}
      </div>
    </div>
  );
}
