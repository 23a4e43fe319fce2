/**
 * One pipeline: what it is (description, tags, schedule, next run), its run history as a chart and a
 * table, the source of a version (highlighted; the current one by default), its versions, and its place in
 * the graph (what it depends on, what depends on it). "Run now" queues a manual run and opens it.
 */
import { useState } from "preact/hooks";
import { api, ApiError, type ErrorBody } from "../api";
import { operateBlockedReason } from "../auth";
import { ErrorBox, Loading } from "../components/error-box";
import { HistoryChart } from "../components/history-chart";
import { SourceView } from "../components/source-view";
import { StatusBadge } from "../components/status-badge";
import { count, duration, relative, scheduleText, utc } from "../format";
import { useLiveRefresh, useLoad, useTick } from "../hooks";
import { href, navigate } from "../router";
import { RUN_KINDS } from "./pipelines";

export function PipelineView({ name }: { name: string }) {
  const detail = useLoad(() => api.pipeline(name), [name]);
  const history = useLoad(() => api.pipelineHistory(name, 100), [name]);
  const all = useLoad(() => api.pipelines(), [name]);
  const [version, setVersion] = useState<number | undefined>(undefined);
  const code = useLoad(() => api.code(name, version), [name, version]);
  const [runError, setRunError] = useState<ErrorBody | null>(null);
  const [starting, setStarting] = useState(false);
  useLiveRefresh({ pipeline: name }, RUN_KINDS, () => {
    detail.reload();
    history.reload();
  });
  const now = useTick(15_000);
  // A viewer's token cannot start runs: say so by the button (the daemon refuses it anyway, 403).
  const blocked = operateBlockedReason();

  const p = detail.data;
  if (!p && detail.error) return <ErrorBox error={detail.error.body} title={`Pipeline ${name}:`} />;
  if (!p) return <Loading what={`pipeline ${name}`} />;
  const dependents = (all.data ?? []).filter((o) => o.dependsOn.includes(p.name)).map((o) => o.name);
  const shownVersion = code.data?.version ?? p.currentVersion;

  const runNow = async (): Promise<void> => {
    setStarting(true);
    setRunError(null);
    try {
      const run = await api.startRun(p.name);
      navigate(href.run(run.id));
    } catch (err) {
      setRunError(err instanceof ApiError ? err.body : { code: "TAU_E_INTERNAL", message: String(err), hint: "" });
    } finally {
      setStarting(false);
    }
  };

  return (
    <article aria-labelledby="pipeline-title">
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.pipelines()}>Pipelines</a> / <span aria-current="page">{p.name}</span>
      </nav>
      <header class="page-head">
        <div>
          <h1 id="pipeline-title">{p.name}</h1>
          {p.description && <p class="lede">{p.description}</p>}
          <p class="facts">
            {p.tags.map((t) => (
              <span key={t} class="tag">
                {t}
              </span>
            ))}
            <span>
              Schedule: {scheduleText(p) ? <code>{scheduleText(p)}</code> : "manual"}
              {p.nextRunAt ? ` · next ${relative(p.nextRunAt, now)} (${utc(p.nextRunAt)})` : ""}
            </span>
            {!p.enabled && <span class="tag warn">disabled</span>}
            <span>
              Version {p.currentVersion} · {p.filename}
            </span>
            {p.timeoutSec !== null && <span>timeout {p.timeoutSec} s</span>}
          </p>
        </div>
        <div class="actions">
          <button
            type="button"
            class="primary"
            onClick={runNow}
            disabled={starting || blocked !== null}
            aria-describedby={blocked !== null ? "run-blocked" : undefined}
          >
            {starting ? "Starting…" : "Run now"}
          </button>
        </div>
      </header>
      {blocked !== null && (
        <p id="run-blocked" class="role-note" data-testid="role-note">
          {blocked}
        </p>
      )}
      {runError && <ErrorBox error={runError} title="Could not start a run:" />}

      <section aria-labelledby="history-title">
        <h2 id="history-title">Run history</h2>
        {history.error && <ErrorBox error={history.error.body} />}
        {history.data && <HistoryChart points={history.data} />}
        {history.data && history.data.length > 0 && (
          <table class="list compact">
            <caption class="visually-hidden">Recent runs of {p.name}</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Version</th>
                <th scope="col">Queued</th>
                <th scope="col">Duration</th>
                <th scope="col">Rows out</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {history.data.slice(0, 15).map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    <a href={href.run(r.id)}>{r.id}</a>
                  </th>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{r.trigger}</td>
                  <td class="num">{r.version}</td>
                  <td title={utc(r.queuedAt)}>{relative(r.queuedAt, now)}</td>
                  <td class="num">{duration(r.durationMs)}</td>
                  <td class="num">{count(r.rowsOut)}</td>
                  <td>{r.errorCode ? <code>{r.errorCode}</code> : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <div class="two-col">
        <section aria-labelledby="deps-title">
          <h2 id="deps-title">Dependencies</h2>
          <dl class="deps">
            <dt>Depends on</dt>
            <dd>
              {p.dependsOn.length === 0
                ? "nothing"
                : p.dependsOn.map((d) => (
                    <a key={d} class="tag link" href={href.pipeline(d)}>
                      {d}
                    </a>
                  ))}
            </dd>
            <dt>Needed by</dt>
            <dd>
              {dependents.length === 0
                ? "nothing"
                : dependents.map((d) => (
                    <a key={d} class="tag link" href={href.pipeline(d)}>
                      {d}
                    </a>
                  ))}
            </dd>
          </dl>
          <p>
            <a href={href.dag()}>Open the whole graph</a>
          </p>
        </section>
        <section aria-labelledby="versions-title">
          <h2 id="versions-title">Versions</h2>
          <table class="list compact">
            <caption class="visually-hidden">Versions of {p.name}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Hash</th>
                <th scope="col">Deployed</th>
                <th scope="col">Size</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {p.versions.map((v) => (
                <tr key={v.version} class={v.version === shownVersion ? "selected" : ""}>
                  <th scope="row">
                    {v.version}
                    {v.version === p.currentVersion && <span class="tag">current</span>}
                  </th>
                  <td>
                    <code title={v.hash}>{v.hash.slice(0, 12)}</code>
                  </td>
                  <td title={utc(v.createdAt)}>{relative(v.createdAt, now)}</td>
                  <td class="num">{count(v.sourceBytes)} B</td>
                  <td>
                    <button
                      type="button"
                      class="link"
                      aria-pressed={v.version === shownVersion}
                      aria-label={`Show the source of version ${v.version}`}
                      onClick={() => setVersion(v.version === p.currentVersion ? undefined : v.version)}
                    >
                      {v.version === shownVersion ? "shown" : "show"}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>

      <section aria-labelledby="source-title">
        <h2 id="source-title">
          Source <span class="muted">(version {shownVersion})</span>
        </h2>
        {code.error && <ErrorBox error={code.error.body} />}
        {code.data ? <SourceView source={code.data.source} filename={code.data.filename} /> : !code.error && <Loading what="source" />}
      </section>
    </article>
  );
}
