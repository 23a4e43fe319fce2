/**
 * A pipeline's run history: one bar per run (oldest left) whose height is its duration and colour its
 * status, and its rows out as a line on the right-hand axis. Each bar links to its run.
 */
import type { RunPoint } from "../../../server/contract";
import { count, duration, utc } from "../format";
import { useWidth } from "../hooks";
import { href } from "../router";

const H = 200;
const PAD = { l: 56, r: 56, t: 12, b: 24 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v) ?? v;
}

export function HistoryChart({ points }: { points: RunPoint[] }) {
  const [box, W] = useWidth<HTMLDivElement>(960);
  return (
    <div ref={box} class="chart-box">
      <HistorySvg points={points} W={W - 18} />
    </div>
  );
}

function HistorySvg({ points, W }: { points: RunPoint[]; W: number }) {
  const runs = [...points].reverse();
  if (runs.length === 0) return <p class="muted">No runs yet.</p>;
  const maxMs = niceMax(Math.max(...runs.map((r) => r.durationMs ?? 0)));
  const withRows = runs.filter((r) => r.rowsOut !== null);
  const maxRows = niceMax(Math.max(0, ...withRows.map((r) => r.rowsOut!)));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const slots = Math.max(runs.length, 10);
  const slot = iw / slots;
  // Right-aligned: the newest run is always at the right edge, under "newest".
  const offset = (slots - runs.length) * slot;
  const y = (ms: number): number => PAD.t + ih - (ms / maxMs) * ih;
  const yr = (rows: number): number => PAD.t + ih - (rows / maxRows) * ih;
  const cx = (i: number): number => PAD.l + offset + i * slot + slot / 2;
  const line = runs
    .map((r, i) => (r.rowsOut === null ? null : `${cx(i).toFixed(1)},${yr(r.rowsOut).toFixed(1)}`))
    .filter(Boolean)
    .join(" ");
  const failed = runs.filter((r) => r.status === "failed").length;
  const summary = `Run history of the last ${runs.length} runs: ${failed} failed; durations up to ${duration(maxMs)}${withRows.length ? `, rows out up to ${count(maxRows)}` : ""}.`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="group" aria-label={summary}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line class="grid" x1={PAD.l} x2={W - PAD.r} y1={y(maxMs * f)} y2={y(maxMs * f)} />
            <text class="axis" x={PAD.l - 6} y={y(maxMs * f) + 4} text-anchor="end">
              {duration(maxMs * f)}
            </text>
            {withRows.length > 0 && (
              <text class="axis rows" x={W - PAD.r + 6} y={yr(maxRows * f) + 4}>
                {count(Math.round(maxRows * f))}
              </text>
            )}
          </g>
        ))}
        {runs.map((r, i) => {
          const top = r.durationMs === null ? y(0) - 2 : Math.min(y(r.durationMs), y(0) - 2);
          const label = `Run ${r.id}, ${r.status}, ${duration(r.durationMs)}, rows out ${count(r.rowsOut)}, queued ${utc(r.queuedAt)}`;
          return (
            // Out of the tab order: the runs table under the chart holds the same links, a stop per bar would bury it.
            <a key={r.id} href={href.run(r.id)} aria-label={label} tabindex={-1}>
              <title>{label}</title>
              <rect class={`bar status-fill-${r.status}`} x={PAD.l + offset + i * slot + slot * 0.15} y={top} width={slot * 0.7} height={y(0) - top} />
            </a>
          );
        })}
        {withRows.length > 1 && <polyline class="rows-line" points={line} fill="none" />}
        {runs.map((r, i) => (r.rowsOut === null ? null : <circle key={`${r.id}-rows`} class="rows-dot" cx={cx(i)} cy={yr(r.rowsOut)} r={2.5} />))}
        <text class="axis" x={PAD.l} y={H - 6}>
          oldest
        </text>
        <text class="axis" x={W - PAD.r} y={H - 6} text-anchor="end">
          newest
        </text>
      </svg>
      <figcaption class="legend">
        <span class="key key-bar" aria-hidden="true" /> duration (bar colour: status)
        {withRows.length > 0 && (
          <>
            {" "}
            <span class="key key-line" aria-hidden="true" /> rows out (right axis)
          </>
        )}
      </figcaption>
    </figure>
  );
}
