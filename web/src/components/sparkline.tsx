/**
 * Recent run durations as a tiny SVG bar chart (oldest left), each bar coloured by the run's status. The
 * text alternative says the same in words for screen readers.
 */
import type { RunPoint } from "../../../server/contract";
import { duration } from "../format";

const W = 120;
const H = 28;

export function Sparkline({ points, label }: { points: RunPoint[]; label: string }) {
  const runs = points.filter((p) => p.durationMs !== null).slice(0, 20).reverse();
  if (runs.length === 0) return <span class="muted">no finished runs</span>;
  const max = Math.max(...runs.map((p) => p.durationMs!), 1);
  const bw = W / 20;
  const last = runs[runs.length - 1];
  const desc = `${label}: ${runs.length} recent runs, longest ${duration(max)}, last ${duration(last.durationMs)} (${last.status})`;
  return (
    <svg class="sparkline" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={desc}>
      <title>{desc}</title>
      {runs.map((p, i) => {
        const h = Math.max(2, Math.round((p.durationMs! / max) * (H - 2)));
        return <rect key={p.id} class={`spark-bar status-fill-${p.status}`} x={i * bw + 0.5} y={H - h} width={bw - 1.5} height={h} />;
      })}
    </svg>
  );
}
