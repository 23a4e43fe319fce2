/**
 * Pipelines: name, tags, schedule and next run, last run (status, duration, when), a sparkline of recent
 * durations; search and filters. Rows open the pipeline (click, Enter or Space). Refreshed live when runs
 * are queued, start or finish.
 */
import { useMemo, useState } from "preact/hooks";
import type { RunEventKind } from "../../../server/contract";
import { api } from "../api";
import { ErrorBox, Loading } from "../components/error-box";
import { Sparkline } from "../components/sparkline";
import { StatusBadge } from "../components/status-badge";
import { duration, relative, scheduleText, utc } from "../format";
import { useLiveRefresh, useLoad, useTick } from "../hooks";
import { href, navigate } from "../router";

export const RUN_KINDS: RunEventKind[] = ["run.queued", "run.started", "run.finished"];
const ALL = { all: true } as const;

export function PipelinesView() {
  const pipelines = useLoad(() => api.pipelines(), []);
  const history = useLoad(() => api.history(20), []);
  useLiveRefresh(ALL, RUN_KINDS, () => {
    pipelines.reload();
    history.reload();
  });
  const now = useTick(15_000);
  const [query, setQuery] = useState("");
  const [status, setStatus] = useState("");
  const [tag, setTag] = useState("");

  const tags = useMemo(() => [...new Set((pipelines.data ?? []).flatMap((p) => p.tags))].sort(), [pipelines.data]);
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return (pipelines.data ?? []).filter(
      (p) =>
        (q === "" || p.name.toLowerCase().includes(q) || p.description.toLowerCase().includes(q) || p.tags.some((t) => t.toLowerCase().includes(q))) &&
        (status === "" || (p.lastRun?.status ?? "never") === status) &&
        (tag === "" || p.tags.includes(tag)),
    );
  }, [pipelines.data, query, status, tag]);

  return (
    <section aria-labelledby="pipelines-title">
      <h1 id="pipelines-title">Pipelines</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} placeholder="name, description or tag" />
        </label>
        <label>
          Last status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            {["succeeded", "failed", "running", "queued", "cancelled", "skipped", "never"].map((s) => (
              <option key={s} value={s}>
                {s === "never" ? "never run" : s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Tag
          <select value={tag} onChange={(e) => setTag(e.currentTarget.value)}>
            <option value="">any</option>
            {tags.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <span class="muted" aria-live="polite">
          {pipelines.data ? `${shown.length} of ${pipelines.data.length} pipelines` : ""}
        </span>
      </form>
      {pipelines.error && <ErrorBox error={pipelines.error.body} />}
      {pipelines.loading && !pipelines.data && <Loading what="pipelines" />}
      {pipelines.data && pipelines.data.length === 0 && (
        <p class="empty">
          No pipelines yet. Deploy one with <code>tau deploy FILE.ts</code>.
        </p>
      )}
      {shown.length > 0 && (
        <table class="list">
          <caption class="visually-hidden">Pipelines; press Enter on a row to open it</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Tags</th>
              <th scope="col">Schedule</th>
              <th scope="col">Last run</th>
              <th scope="col">Duration</th>
              <th scope="col">Recent durations</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => {
              const open = (): void => navigate(href.pipeline(p.name));
              const last = p.lastRun;
              return (
                <tr
                  key={p.name}
                  class="clickable"
                  tabIndex={0}
                  aria-label={`Pipeline ${p.name}, last run ${last?.status ?? "never"}`}
                  onClick={open}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" || e.key === " ") {
                      e.preventDefault();
                      open();
                    }
                  }}
                  data-pipeline={p.name}
                >
                  <th scope="row">
                    <a href={href.pipeline(p.name)} tabIndex={-1}>
                      {p.name}
                    </a>
                    {p.description && <div class="sub">{p.description}</div>}
                  </th>
                  <td>
                    {p.tags.map((t) => (
                      <span key={t} class="tag">
                        {t}
                      </span>
                    ))}
                  </td>
                  <td>
                    {scheduleText(p) ? <code>{scheduleText(p)}</code> : <span class="muted">manual</span>}
                    {!p.enabled && <span class="tag warn">disabled</span>}
                    {p.nextRunAt && (
                      <div class="sub" title={utc(p.nextRunAt)}>
                        next {relative(p.nextRunAt, now)}
                      </div>
                    )}
                  </td>
                  <td>
                    <StatusBadge status={last?.status} />
                    {last && (
                      <div class="sub" title={utc(last.queuedAt)}>
                        {relative(last.finishedAt ?? last.startedAt ?? last.queuedAt, now)}
                      </div>
                    )}
                  </td>
                  <td class="num">{duration(last?.durationMs)}</td>
                  <td>
                    <Sparkline points={history.data?.pipelines[p.name] ?? []} label={`Recent durations of ${p.name}`} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {pipelines.data && pipelines.data.length > 0 && shown.length === 0 && <p class="empty">No pipeline matches these filters.</p>}
    </section>
  );
}
