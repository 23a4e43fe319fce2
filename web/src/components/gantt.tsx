/**
 * A run's steps on a time axis: one bar per step from its start to its end (a running step grows until
 * now), coloured by status, labelled with its duration and rows in → out.
 */
import type { RunView } from "../../../server/contract";
import { count, duration } from "../format";
import { useWidth } from "../hooks";

const ROW = 30;
/** Rough width of a character of the 11 px label font, to place a bar's text where it fits. */
const CHAR_W = 6.2;

export function Gantt({ run, now }: { run: RunView; now: number }) {
  const [box, W] = useWidth<HTMLDivElement>(960);
  return (
    <div ref={box} class="chart-box">
      <GanttSvg run={run} now={now} W={W - 2} />
    </div>
  );
}

function GanttSvg({ run, now, W }: { run: RunView; now: number; W: number }) {
  const LABEL_W = Math.min(150, Math.round(W * 0.22));
  if (run.steps.length === 0) return <p class="muted">{run.status === "queued" ? "Waiting to start." : "This run reported no steps."}</p>;
  const start = Date.parse(run.startedAt ?? run.steps[0].startedAt);
  const ends = run.steps.map((s) => (s.finishedAt ? Date.parse(s.finishedAt) : now));
  const end = Math.max(run.finishedAt ? Date.parse(run.finishedAt) : now, ...ends, start + 1);
  const span = end - start;
  const iw = W - LABEL_W - 10;
  const x = (t: number): number => LABEL_W + ((t - start) / span) * iw;
  const H = run.steps.length * ROW + 24;
  return (
    <svg class="gantt" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="table" aria-label={`Step timeline, ${run.steps.length} steps over ${duration(span)}`}>
      {[0, 0.25, 0.5, 0.75, 1].map((f) => (
        <g key={f} aria-hidden="true">
          <line class="grid" x1={LABEL_W + f * iw} x2={LABEL_W + f * iw} y1={0} y2={H - 18} />
          <text class="axis" x={LABEL_W + f * iw} y={H - 4} text-anchor={f === 0 ? "start" : f === 1 ? "end" : "middle"}>
            {duration(span * f)}
          </text>
        </g>
      ))}
      {run.steps.map((step, i) => {
        const s = Date.parse(step.startedAt);
        const e = ends[i];
        const bx = x(s);
        const bw = Math.max(3, x(e) - bx);
        const rows = step.rowsIn !== null || step.rowsOut !== null ? ` · rows ${count(step.rowsIn)} → ${count(step.rowsOut)}` : "";
        const text = `${duration(step.durationMs ?? e - s)}${rows}`;
        const label = `${step.status} · ${text}`;
        const width = label.length * CHAR_W;
        // Past the bar when there is room on the right, before it when there is room there, else on the bar.
        const after = bx + bw + 6 + width <= W;
        const before = !after && bx - 6 - width >= LABEL_W;
        const inside = !after && !before && bw >= width + 12;
        // Fits nowhere (a narrow screen): at the start of the plot, haloed so it reads over any bar.
        const halo = !after && !before && !inside;
        return (
          <g key={step.name} role="row" class="gantt-row">
            <text role="rowheader" class="gantt-label" x={LABEL_W - 8} y={i * ROW + 19} text-anchor="end">
              {step.name}
            </text>
            <g role="cell" aria-label={`${step.name}: ${step.status}, ${text}`}>
              <rect class={`bar status-fill-${step.status}`} x={bx} y={i * ROW + 5} width={bw} height={ROW - 10} rx={3} />
              <text
                class={inside ? "gantt-text inside" : halo ? "gantt-text halo" : "gantt-text"}
                x={inside ? bx + 6 : halo ? LABEL_W + 4 : before ? bx - 6 : bx + bw + 6}
                y={i * ROW + 19}
                text-anchor={before ? "end" : "start"}
              >
                {label}
              </text>
            </g>
          </g>
        );
      })}
    </svg>
  );
}
