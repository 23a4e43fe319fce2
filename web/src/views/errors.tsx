/** Recent failed runs across all pipelines: code, message, where (step, line), when; each opens its run. */
import { api } from "../api";
import { ErrorBox, Loading } from "../components/error-box";
import { relative, utc } from "../format";
import { useLiveRefresh, useLoad, useTick } from "../hooks";
import { href } from "../router";

export function ErrorsView() {
  const errors = useLoad(() => api.errors(50), []);
  useLiveRefresh({ all: true }, ["run.queued", "run.started", "run.finished"], () => errors.reload());
  const now = useTick(15_000);
  return (
    <section aria-labelledby="errors-title">
      <h1 id="errors-title">Errors</h1>
      <p class="muted">Failed runs, most recently finished first.</p>
      {errors.error && <ErrorBox error={errors.error.body} />}
      {!errors.data && !errors.error && <Loading what="errors" />}
      {errors.data && errors.data.length === 0 && <p class="empty">No failed runs.</p>}
      {errors.data && errors.data.length > 0 && (
        <table class="list">
          <caption class="visually-hidden">Failed runs</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Pipeline</th>
              <th scope="col">Code</th>
              <th scope="col">Message</th>
              <th scope="col">Where</th>
              <th scope="col">Run</th>
            </tr>
          </thead>
          <tbody>
            {errors.data.map((r) => (
              <tr key={r.id}>
                <td title={utc(r.finishedAt)}>{relative(r.finishedAt, now)}</td>
                <td>
                  <a href={href.pipeline(r.pipeline)}>{r.pipeline}</a>
                </td>
                <td>
                  <code>{r.error?.code ?? "—"}</code>
                </td>
                <td class="message-cell">
                  {r.error?.message}
                  {r.error?.hint && <div class="sub">{r.error.hint}</div>}
                </td>
                <td>
                  {r.error?.step ? `step ${r.error.step}` : ""}
                  {r.error?.line ? ` · line ${r.error.line}` : ""}
                </td>
                <td>
                  <a href={href.run(r.id)}>{r.id}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
