/**
 * One run: status and timings, the step Gantt (rows in/out), the live log tail, the result, and on failure
 * the error's code, message and hint with the failing line marked in the source of the version that ran.
 *
 * The log's history is read over HTTP in pages, then the event stream follows the run from the last seq
 * read; the connection layer drops nothing and repeats nothing across reconnects. Step and
 * run events reload the RunView (debounced) for the Gantt and the result.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { LogLine, RunEvent, RunStatus } from "../../../server/contract";
import { api, ApiError, type ErrorBody } from "../api";
import { operateBlockedReason } from "../auth";
import { ErrorBox, Loading } from "../components/error-box";
import { Gantt } from "../components/gantt";
import { LogView } from "../components/log-view";
import { SourceView } from "../components/source-view";
import { StatusBadge } from "../components/status-badge";
import { duration, utc } from "../format";
import { useLoad, useTick } from "../hooks";
import { live } from "../live";
import { href } from "../router";

/** The contract's TERMINAL_RUN_STATUSES, kept here so the bundle takes only types from server/contract. */
const FINAL: ReadonlySet<RunStatus> = new Set<RunStatus>(["succeeded", "failed", "skipped", "cancelled"]);

function logLine(e: RunEvent): LogLine {
  return { seq: e.seq, ts: e.ts, level: e.level ?? "info", step: e.step, message: e.message ?? "", fields: e.data };
}

export function RunPage({ id }: { id: string }) {
  const run = useLoad(() => api.run(id), [id]);
  const lines = useRef<LogLine[]>([]);
  const [logVersion, setLogVersion] = useState(0);
  const [streamError, setStreamError] = useState<ErrorBody | null>(null);
  const [actionError, setActionError] = useState<ErrorBody | null>(null);
  const reloadRef = useRef(run.reload);
  reloadRef.current = run.reload;

  useEffect(() => {
    lines.current = [];
    setLogVersion(0);
    setStreamError(null);
    let frame = 0;
    let reloadTimer: ReturnType<typeof setTimeout> | undefined;
    // A replay delivers thousands of lines at once: render at most once per animation frame.
    const bump = (): void => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setLogVersion((v) => v + 1);
      });
    };
    const reload = (): void => {
      if (reloadTimer !== undefined) return;
      reloadTimer = setTimeout(() => {
        reloadTimer = undefined;
        reloadRef.current();
      }, 150);
    };
    // History first over HTTP (10,000 events a request: one response instead of thousands of socket
    // messages), then the stream from the last seq read; the stream's replay covers anything in between.
    let stop: (() => void) | undefined;
    let cancelled = false;
    (async () => {
      let afterSeq = 0;
      try {
        for (;;) {
          const page = await api.runEvents(id, afterSeq);
          if (cancelled) return;
          for (const e of page.events) if (e.kind === "log") lines.current.push(logLine(e));
          afterSeq = page.lastSeq;
          bump();
          if (!page.hasMore) break;
        }
      } catch {
        // The stream replays from wherever the pages stopped.
      }
      if (cancelled) return;
      stop = live.subscribe(
        { runId: id },
        {
          onEvent: (e) => {
            if (e.kind === "log") {
              lines.current.push(logLine(e));
              bump();
            } else {
              reload();
            }
          },
          onError: (err) => setStreamError(err),
        },
        { from: afterSeq },
      );
    })();
    return () => {
      cancelled = true;
      stop?.();
      cancelAnimationFrame(frame);
      clearTimeout(reloadTimer);
    };
  }, [id]);

  const r = run.data;
  const running = r !== undefined && !FINAL.has(r.status);
  const now = useTick(250, running);
  const error = r?.error ?? null;
  const code = useLoad(
    () => (r && error && error.line !== null ? api.code(r.pipeline, r.version) : Promise.resolve(null)),
    [r?.pipeline, r?.version, error?.line ?? null],
  );

  if (!r && run.error) return <ErrorBox error={run.error.body} title={`Run ${id}:`} />;
  if (!r) return <Loading what={`run ${id}`} />;

  const cancel = async (): Promise<void> => {
    setActionError(null);
    try {
      await api.cancelRun(r.id);
      run.reload();
    } catch (err) {
      setActionError(err instanceof ApiError ? err.body : { code: "TAU_E_INTERNAL", message: String(err), hint: "" });
    }
  };
  const blocked = operateBlockedReason();
  const elapsed = r.durationMs ?? (r.startedAt ? now - Date.parse(r.startedAt) : null);
  const extra = r as typeof r & { attempt?: number; maxAttempts?: number; retryOf?: string | null; retriedBy?: string | null };

  return (
    <article aria-labelledby="run-title">
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.pipelines()}>Pipelines</a> / <a href={href.pipeline(r.pipeline)}>{r.pipeline}</a> /{" "}
        <span aria-current="page">{r.id}</span>
      </nav>
      <header class="page-head">
        <div>
          <h1 id="run-title">
            Run <code>{r.id}</code> <StatusBadge status={r.status} />
          </h1>
          <p class="facts" data-testid="run-facts">
            <span>
              pipeline <a href={href.pipeline(r.pipeline)}>{r.pipeline}</a> v{r.version}
            </span>
            <span>trigger {r.trigger}</span>
            {extra.attempt !== undefined && extra.maxAttempts !== undefined && extra.maxAttempts > 1 && (
              <span>
                attempt {extra.attempt} of {extra.maxAttempts}
              </span>
            )}
            {extra.retryOf && (
              <span>
                retries <a href={href.run(extra.retryOf)}>{extra.retryOf}</a>
              </span>
            )}
            {extra.retriedBy && (
              <span>
                retried by <a href={href.run(extra.retriedBy)}>{extra.retriedBy}</a>
              </span>
            )}
            <span>queued {utc(r.queuedAt)}</span>
            <span>
              {running ? "running for" : "took"} {duration(elapsed)}
            </span>
          </p>
        </div>
        <div class="actions">
          {running && (
            <button type="button" onClick={cancel} disabled={blocked !== null} aria-describedby={blocked !== null ? "cancel-blocked" : undefined}>
              Cancel run
            </button>
          )}
        </div>
      </header>
      {running && blocked !== null && (
        <p id="cancel-blocked" class="role-note" data-testid="role-note">
          {blocked}
        </p>
      )}
      {actionError && <ErrorBox error={actionError} title="Could not cancel:" />}

      {error && (
        <section aria-labelledby="failure-title" class="failure">
          <h2 id="failure-title">Why it failed</h2>
          <div class="error-box" role="alert" data-testid="run-error">
            <code class="code">{error.code}</code> <span class="message">{error.message}</span>
            <p class="where">
              {error.step !== null && (
                <>
                  in step <strong>{error.step}</strong>
                </>
              )}
              {error.line !== null && (
                <>
                  {" "}
                  at line <strong data-testid="error-line">{error.line}</strong>
                  {error.column !== null && <>, column {error.column}</>}
                </>
              )}
            </p>
            {error.hint && <p class="hint">{error.hint}</p>}
          </div>
          {code.data && (
            <SourceView
              source={code.data.source}
              filename={code.data.filename}
              errorLine={error.line}
              errorColumn={error.column}
              errorLabel={`${error.code}: ${error.message}`}
            />
          )}
        </section>
      )}

      <section aria-labelledby="steps-title">
        <h2 id="steps-title">Steps</h2>
        <Gantt run={r} now={now} />
      </section>

      <section aria-labelledby="log-title">
        <h2 id="log-title">Log</h2>
        {streamError && <ErrorBox error={streamError} title="Event stream:" />}
        <LogView lines={lines.current} version={logVersion} errorStep={error?.step ?? null} />
      </section>

      {r.status === "succeeded" && (
        <section aria-labelledby="result-title">
          <h2 id="result-title">Result</h2>
          <pre class="result" tabIndex={0} aria-label="Result as JSON">
            {JSON.stringify(r.result, null, 2)}
          </pre>
        </section>
      )}
    </article>
  );
}
