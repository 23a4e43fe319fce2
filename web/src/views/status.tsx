/**
 * The daemon: version, mode, uptime, queue depth (queued and running runs), executor processes, and the
 * workers of a hosted instance when the status carries them. Refreshed every few seconds and on run events.
 */
import { useEffect } from "preact/hooks";
import { api } from "../api";
import { ErrorBox, Loading } from "../components/error-box";
import { duration, utc } from "../format";
import { useLiveRefresh, useLoad } from "../hooks";
import { live } from "../live";

export function StatusView() {
  const status = useLoad(() => api.status(), []);
  useLiveRefresh({ all: true }, ["run.queued", "run.started", "run.finished"], () => status.reload(), 500);
  useEffect(() => {
    const t = setInterval(() => status.reload(), 5_000);
    return () => clearInterval(t);
  }, [status.reload]);
  const s = status.data;
  const workers = Array.isArray(s?.workers) ? (s!.workers as Array<Record<string, unknown>>) : null;
  return (
    <section aria-labelledby="status-title">
      <h1 id="status-title">Status</h1>
      {status.error && <ErrorBox error={status.error.body} title="taud:" />}
      {!s && !status.error && <Loading what="status" />}
      {s && (
        <>
          <div class="cards">
            <div class="card">
              <h2>Daemon</h2>
              <dl>
                <dt>Status</dt>
                <dd>
                  <span class="badge status-succeeded">{s.status}</span>
                </dd>
                <dt>Version</dt>
                <dd>{s.version}</dd>
                <dt>Mode</dt>
                <dd>{s.mode}</dd>
                <dt>Uptime</dt>
                <dd title={`since ${utc(s.startedAt)}`}>{duration(s.uptimeMs)}</dd>
                {s.pid !== null && s.home !== null ? (
                  <>
                    <dt>PID</dt>
                    <dd>{s.pid}</dd>
                    <dt>Home</dt>
                    <dd>
                      <code>{s.home}</code>
                    </dd>
                  </>
                ) : null}
                <dt>Live events</dt>
                <dd>
                  {live.connectionState}, {live.connections} connection{live.connections === 1 ? "" : "s"} so far
                </dd>
              </dl>
            </div>
            <div class="card">
              <h2>Queue</h2>
              <dl>
                <dt>Queued</dt>
                <dd class="big" data-testid="queued">
                  {s.runs.queued}
                </dd>
                <dt>Running</dt>
                <dd class="big" data-testid="running">
                  {s.runs.running}
                </dd>
                <dt>Pipelines</dt>
                <dd class="big">{s.pipelines}</dd>
              </dl>
            </div>
          </div>
          <h2>Executors</h2>
          <table class="list compact">
            <caption class="visually-hidden">Executor processes</caption>
            <thead>
              <tr>
                <th scope="col">Executor</th>
                <th scope="col">PID</th>
                <th scope="col">State</th>
                <th scope="col">Running</th>
                <th scope="col">Restarts</th>
              </tr>
            </thead>
            <tbody>
              {s.executors.map((e) => (
                <tr key={e.id}>
                  <th scope="row">#{e.id}</th>
                  <td class="num">{e.pid ?? "—"}</td>
                  <td>
                    <span class={`badge exec-${e.state}`}>{e.state}</span>
                  </td>
                  <td class="num">{e.running}</td>
                  <td class="num">{e.restarts}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {workers && (
            <>
              <h2>Workers</h2>
              <table class="list compact">
                <caption class="visually-hidden">Workers of this hosted instance</caption>
                <thead>
                  <tr>
                    {Object.keys(workers[0] ?? { id: 1 }).map((k) => (
                      <th key={k} scope="col">
                        {k}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {workers.map((w, i) => (
                    <tr key={String(w.id ?? i)}>
                      {Object.values(w).map((v, j) => (
                        <td key={j}>{typeof v === "object" ? JSON.stringify(v) : String(v)}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </section>
  );
}
