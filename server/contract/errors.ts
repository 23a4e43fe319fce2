/**
 * The one registry of Tau error codes. Server, sandbox, CLI and dashboard all speak these codes; an agent
 * parses them, so a code is API: never rename or reuse one. Every code here is documented in
 * docs/errors.md and a test keeps the two equal in both directions.
 *
 * Shape on the wire (API body, CLI stdout, run.error): `{"error": {code, message, hint, details}}`.
 */

export interface ErrorSpec {
  /** HTTP status the API answers with. */
  readonly status: number;
  /** Default message when the thrower gives none. */
  readonly message: string;
  /** What to do next: written for an agent operating Tau. */
  readonly hint: string;
  /** Whether retrying the same action may succeed without a change (connection lost, timeout). */
  readonly retryable: boolean;
}

const spec = (status: number, message: string, hint: string, retryable = false): ErrorSpec => ({
  status,
  message,
  hint,
  retryable,
});

export const ERRORS = {
  // ── generic / API ────────────────────────────────────────────────────────────────────────────────
  TAU_E_INTERNAL: spec(500, "Internal error in Tau.", "This is a bug in Tau, not in your pipeline. Retry once; if it persists, report it with the details."),
  TAU_E_REQUEST_INVALID: spec(400, "The request is invalid.", "Check the fields named in details against the API's OpenAPI document (GET /api/openapi.json)."),
  TAU_E_ROUTE_NOT_FOUND: spec(404, "No such API route.", "See GET /api/openapi.json for the routes this daemon serves; the CLI and daemon versions may differ (tau version)."),
  TAU_E_PARAMS_INVALID: spec(400, "Run params must be a JSON object.", "Pass --params with a JSON object, e.g. --params '{\"day\": \"2026-01-31\"}'."),

  // ── CLI ──────────────────────────────────────────────────────────────────────────────────────────
  TAU_E_CLI_USAGE: spec(2, "Invalid command line.", "Run `tau --help` or `tau <command> --help` for the accepted arguments."),
  TAU_E_DAEMON_UNREACHABLE: spec(503, "Cannot reach taud.", "Start the daemon with `taud` (or `npx taud`), or point TAU_HOST at a running instance.", true),
  TAU_E_DAEMON_RESPONSE_INVALID: spec(502, "taud answered with something that is not Tau JSON.", "Check that TAU_HOST points at a Tau daemon, and that `tau version` matches the daemon's version."),
  TAU_E_FILE_NOT_FOUND: spec(400, "File not found.", "Check the path; relative paths are resolved from the current directory."),
  TAU_E_INIT_TARGET_EXISTS: spec(409, "The target already holds a file Tau would overwrite.", "Pass --force to overwrite, or choose another directory."),

  // ── pipelines, versions, deploy ──────────────────────────────────────────────────────────────────
  TAU_E_PIPELINE_NOT_FOUND: spec(404, "No pipeline with that name.", "Run `tau list` to see deployed pipelines, or `tau deploy FILE` to deploy one."),
  TAU_E_VERSION_NOT_FOUND: spec(404, "The pipeline has no such version.", "Run `tau inspect NAME` to see its versions."),
  TAU_E_DEPLOY_SYNTAX: spec(422, "The pipeline file does not compile.", "Fix the error at the file:line:column given in details.errors, then deploy again."),
  TAU_E_DEPLOY_IMPORT_FORBIDDEN: spec(422, "The pipeline imports a module that cannot run in the sandbox.", "A pipeline is one file that may import only `tau`, `tau/connectors` and `tau/materializations`. Inline small helpers; move host work (files, network) into a connector call."),
  TAU_E_DEPLOY_TYPECHECK: spec(422, "The pipeline file has type errors.", "Fix the errors at the file:line:column given in details.errors, or deploy with --no-typecheck to skip the check."),
  TAU_E_DEPLOY_NO_PIPELINE: spec(422, "The file does not default-export a pipeline.", "End the file with `export default pipeline({ name: \"…\" }, async (ctx) => { … })`, importing pipeline from \"tau\"."),
  TAU_E_DEPLOY_META_INVALID: spec(422, "The pipeline's meta is invalid.", "Fix the field named in details.field in the first argument of pipeline()."),
  TAU_E_DEPLOY_NAME_INVALID: spec(422, "Invalid pipeline name.", "Use 1–64 characters: a lowercase letter first, then lowercase letters, digits, '_' or '-'."),
  TAU_E_DEPLOY_NAME_TAKEN: spec(409, "Another file is already deployed under that name.", "Choose another name with --name, or pass --replace to make this file the pipeline's new version."),
  TAU_E_DEPLOY_CRON_INVALID: spec(422, "The schedule is not a valid cron expression.", "Use five fields (minute hour day month weekday), e.g. \"0 6 * * *\", or six with seconds first."),
  TAU_E_DEPLOY_TOO_LARGE: spec(413, "The pipeline source is too large.", "Keep a pipeline file under the size in details.limitBytes; move data out of the source into a connector."),
  TAU_E_DEPLOY_MODULE_UNAVAILABLE: spec(422, "The pipeline imports a Tau module that this version of Tau does not provide yet.", "Remove the import named in details.errors, or upgrade Tau; docs/sdk.md lists the modules this version provides."),

  // ── runs ─────────────────────────────────────────────────────────────────────────────────────────
  TAU_E_RUN_NOT_FOUND: spec(404, "No run with that id.", "Run `tau runs NAME` to list a pipeline's runs."),
  TAU_E_RUN_NOT_FINISHED: spec(409, "The run has not finished yet.", "Wait with `tau logs NAME --run ID --follow`, then inspect it."),
  TAU_E_NO_RUNS: spec(404, "The pipeline has not run yet.", "Run it with `tau run NAME`."),
  TAU_E_RUN_ALREADY_FINISHED: spec(409, "The run has already finished; there is nothing to cancel.", "Only queued or running runs (and pending retries) can be cancelled. Start a new run with `tau run NAME`."),
  TAU_E_PIPELINE_ERROR: spec(200, "The pipeline threw an error.", "Read error.step, error.line and error.column: they point into your pipeline file. Fix it and deploy again."),
  TAU_E_PIPELINE_RESULT_INVALID: spec(200, "The pipeline returned a value that cannot be stored as JSON.", "Return plain JSON data (objects, arrays, strings, numbers, booleans, null) under the result size limit."),
  TAU_E_RUN_TIMEOUT: spec(200, "The run passed its wall-clock deadline and was stopped.", "Raise timeoutSec in the pipeline meta, or make the pipeline do less per run (incremental loads, smaller extracts).", true),
  TAU_E_RUN_CPU_LIMIT: spec(200, "The run used more CPU time than its budget and was stopped.", "Look for a busy loop in the step named in error.step; move heavy transforms into SQL executed by a connector."),
  TAU_E_RUN_MEMORY_LIMIT: spec(200, "The run passed its isolate memory limit and was stopped.", "Process data in batches, or push the work into SQL executed by a connector instead of holding rows in the pipeline."),
  TAU_E_RUN_INTERRUPTED: spec(200, "The run was still running when the daemon stopped.", "Run it again with `tau run NAME`.", true),
  TAU_E_SANDBOX_CRASHED: spec(200, "The executor process running this run crashed.", "The daemon replaced the executor. If it repeats for this pipeline, it is likely exhausting memory in an uninterruptible built-in (e.g. a huge Array fill): process data in smaller pieces.", true),
  TAU_E_WORKER_LOST: spec(200, "The worker running this run stopped heartbeating (killed, crashed or cut off from PostgreSQL) and was declared lost.", "Tau retries the run on another worker when it has attempts left (retries in the pipeline meta); otherwise run it again with `tau run NAME`. If workers keep getting lost, check them with `tau workers` and their logs.", true),
  TAU_E_STEP_INVALID: spec(200, "A step was used wrongly.", "Give each step a non-empty name and end it once (prefer `await using step = ctx.step(\"name\")` or ctx.step(name, fn))."),

  // ── bridge (guest ↔ host) ────────────────────────────────────────────────────────────────────────
  TAU_E_BRIDGE_PAYLOAD_TOO_LARGE: spec(200, "Data passed across the sandbox bridge exceeds its size limit.", "Pass less data per call: load or extract in batches."),
  TAU_E_BRIDGE_PAYLOAD_INVALID: spec(200, "Data passed across the sandbox bridge is not plain JSON, or nests too deeply.", "Pass plain JSON values (no functions, cycles, or deeper nesting than details.maxDepth)."),
  TAU_E_BRIDGE_OP_UNKNOWN: spec(200, "Unknown sandbox operation.", "Use the tau SDK rather than calling the bridge directly."),
  TAU_E_SECRET_NOT_FOUND: spec(200, "No secret with that name.", "In local mode ctx.secret reads taud's environment: export the variable before starting taud."),
  TAU_E_POLICY_DENIED: spec(200, "The tenant policy does not allow this operation.", "details.rule names the policy rule; ask an admin to change the policy, or use an allowed connector or host."),

  // ── hosted mode: auth, tenants, secrets ──────────────────────────────────────────────────────────
  TAU_E_AUTH_REQUIRED: spec(401, "This Tau instance needs a bearer token.", "Set TAU_TOKEN to a token issued for your tenant (an admin runs `tau tokens issue --tenant T --role R`)."),
  TAU_E_AUTH_INVALID: spec(401, "The bearer token was refused.", "Check TAU_TOKEN: it must be a token this instance issued (right key and algorithm), unaltered; details.reason says which check failed."),
  TAU_E_AUTH_EXPIRED: spec(401, "The bearer token has expired.", "Ask an admin for a new token (`tau tokens issue`), then set TAU_TOKEN to it."),
  TAU_E_AUTH_CONFIG: spec(500, "The instance's token configuration cannot do this.", "An operator must set the option named in details.option (e.g. TAU_JWT_PRIVATE_KEY to issue RS256/ES256 tokens)."),
  TAU_E_FORBIDDEN: spec(403, "The token's role does not allow this.", "details.needed names the role required; ask an admin for a token with that role."),
  TAU_E_SECRET_UNREADABLE: spec(500, "A stored secret cannot be decrypted.", "It was written under another TAU_SECRET_KEY or altered in the database; set the secret again with `tau secrets set NAME`."),
  TAU_E_HOSTED_ONLY: spec(409, "This needs a hosted instance.", "Tenants and tokens exist only in hosted mode: start taud with --mode hosted (docs/hosted.md), or leave them out locally."),
  TAU_E_TENANT_EXISTS: spec(409, "A tenant with that id exists already.", "Pick another id, or use the existing tenant (`tau tenants list`)."),
  TAU_E_TENANT_NOT_FOUND: spec(404, "No tenant with that id.", "Create it first (`tau tenants create NAME`, platform admin), or check `tau tenants list`."),
  TAU_E_POLICY_INVALID: spec(400, "The policy document is invalid.", "details.problems lists what is wrong; the JSON Schema is in docs/policies.md (start from `tau policy get`)."),
  TAU_E_SECRET_NOT_STORED: spec(404, "No stored secret with that name.", "`tau secrets list` shows the names stored for your tenant."),
  TAU_E_SECRETS_DISABLED: spec(409, "This daemon cannot store secrets.", "Start taud with TAU_SECRET_KEY (32 random bytes, e.g. `openssl rand -base64 32`) to store secrets; locally, ctx.secret also reads taud's environment."),

  // ── connectors ───────────────────────────────────────────────────────────────────────────────────
  TAU_E_CONNECTOR_ARGS_INVALID: spec(200, "Invalid arguments to a connector call.", "Check the call against the connector's documentation in docs/sdk.md."),
  TAU_E_CONNECTOR_CLOSED: spec(200, "The connector was used after it was closed.", "Use the connector inside its `await using` block."),
  TAU_E_CONNECTOR_BUSY: spec(200, "The database is locked by another process.", "Another run holds the DuckDB file; runs retry for a while before this error. Avoid overlapping runs that write the same file.", true),
  TAU_E_CONNECTOR_SYNTAX: spec(200, "The database rejected the SQL as a syntax error.", "Fix the SQL shown in details.sql."),
  TAU_E_CONNECTOR_UNKNOWN_OBJECT: spec(200, "The SQL names a table, column or function that does not exist.", "Check the name in the message; use getSchema(table) to list a table's columns."),
  TAU_E_CONNECTOR_TYPE_MISMATCH: spec(200, "A value does not fit the column's type.", "Cast the value, or change the column type; details.column names it when known."),
  TAU_E_CONNECTOR_CONSTRAINT: spec(200, "A constraint rejected the rows (unique, not null, foreign key or check).", "Deduplicate or fix the offending rows, or load with another mode."),
  TAU_E_CONNECTOR_IO: spec(200, "The database could not read or write its file.", "Check the path and the free disk space.", true),
  TAU_E_CONNECTOR_QUERY_FAILED: spec(200, "The database rejected the statement.", "Read the database's message in error.message and fix the statement."),
  TAU_E_CONNECTOR_UNAVAILABLE: spec(200, "The connector is not available in this build of Tau.", "Use one of the connectors listed in docs/sdk.md."),
  TAU_E_CONNECTOR_RESULT_TOO_LARGE: spec(200, "The query returns more rows than one extract may bring into the pipeline.", "Filter or aggregate in SQL, or extract in pages (LIMIT/OFFSET or a key range); details.limitRows gives the limit."),
  TAU_E_CONNECTOR_AUTH_FAILED: spec(200, "The database refused the credentials.", "Check the user and password (or the secret that holds them: tau secrets, or taud's environment in local mode)."),
  TAU_E_CONNECTOR_UNREACHABLE: spec(200, "Cannot reach the database server.", "Check the host and port, that the server is running and that the network allows it; details.host and details.port say where Tau tried to connect.", true),
  TAU_E_CONNECTOR_PERMISSION_DENIED: spec(200, "The database user lacks a privilege the statement needs.", "Grant the privilege named in the message to the connector's user, or use a user that has it."),
  TAU_E_CONNECTOR_TIMEOUT: spec(200, "The database did not answer in time (connect timeout or lock wait timeout).", "Retry; if it persists, look for long transactions holding locks on the table, or raise the timeout.", true),
  TAU_E_CONNECTOR_CONFLICT: spec(200, "A concurrent transaction conflicted with this one (deadlock or serialization failure); the statement was rolled back.", "Retry the call; the database rolled it back whole.", true),
  TAU_E_CONNECTOR_SERVICE_UNAVAILABLE: spec(200, "The service kept answering 429 (rate limited) or 5xx after the connector's retries.", "Retry later, or lower the connector's rateLimit; details.status is the last status and details.attempts how many requests were made.", true),
  TAU_E_CONNECTOR_REQUEST_REJECTED: spec(200, "The service rejected the request (an HTTP 4xx other than 401/403/404, or an S3 error).", "Read details.status and details.body (the service's own answer), then fix the path, params or body."),
  TAU_E_CONNECTOR_RESPONSE_TOO_LARGE: spec(200, "The service's response is larger than the connector may read.", "Ask for less per request (a smaller page size, a narrower query); details.limitBytes gives the cap (the connector's maxResponseBytes)."),
  TAU_E_CONNECTOR_DATA_INVALID: spec(200, "The data read could not be parsed in the expected format (JSON, CSV, JSON lines, Parquet), or has the wrong shape.", "Check details.format and details.where; pass the right format (or recordPath) explicitly."),

  // ── materializations ─────────────────────────────────────────────────────────────────────────────
  TAU_E_MATERIALIZE_CONFIG: spec(200, "The materialization config is invalid.", "Fix the field named in details.field (details.config names the config class); docs/sdk.md lists each config's fields and defaults."),
  TAU_E_MATERIALIZE_FAILED: spec(200, "A statement of the materialization failed.", "Read the database's message and details.statement; details.targetUnchanged says whether the run was rolled back whole (PostgreSQL, DuckDB, Redshift) or earlier DDL took effect."),
  TAU_E_MATERIALIZE_SCHEMA_CHANGED: spec(200, "The source query's columns differ from the target's and onSchemaChange is 'fail'.", "details.added, details.removed and details.changed list the differences: change the source query, or set onSchemaChange to 'append_new_columns' or 'sync_all_columns'."),
  TAU_E_MATERIALIZE_DUPLICATE_KEY: spec(200, "The source returns more than one row for a uniqueKey value.", "details.duplicates lists keys and counts: deduplicate the source query (e.g. keep the latest row per key with ROW_NUMBER()), or widen uniqueKey. The target was not changed."),
  TAU_E_MATERIALIZE_LOCKED: spec(200, "Another run kept the target locked for too long.", "Another materialization of the same target is running; wait for it to finish and run again.", true),
  TAU_E_MATERIALIZE_UNSUPPORTED: spec(200, "The strategy or option is not available on this dialect.", "details.what names it; docs/materializations.md lists what each dialect supports and the alternative to use."),
  TAU_E_MATERIALIZE_TARGET_CONFLICT: spec(200, "The target exists in a shape this strategy cannot maintain.", "Drop or rename the existing relation named in details.target (or choose another targetTable); details.missing lists the columns the strategy expects."),

  // ── sandbox (executor side) ──────────────────────────────────────────────────────────────────────
  TAU_E_RUN_CANCELLED: spec(200, "The run was cancelled.", "Start it again with `tau run NAME` when you want it to run."),
  TAU_E_SANDBOX_UNAVAILABLE: spec(503, "No executor process is available to run pipelines.", "The executor pool is starting, restarting crashed executors or shutting down; retry in a few seconds. The daemon's stderr log says why executors fail to start.", true),

  // ── schedules and the DAG ────────────────────────────────────────────────────────────────────────
  TAU_E_SCHEDULE_INVALID: spec(422, "The schedule is invalid.", "details.field names what is wrong: give a cron expression or --every SECONDS (not both), an IANA time zone such as Europe/Berlin, and --catch-up from 0 to 100."),
  TAU_E_DAG_CYCLE: spec(422, "The dependencies would form a cycle.", "details.cycle lists the pipelines around the cycle (first = last): remove one of those dependencies (tau depends NAME --on …, or dependsOn in the file)."),
  TAU_E_GRAPH_RUN_NOT_FOUND: spec(404, "No graph run with that id.", "Start one with `tau dag run`; its id (dag_…) is in the output."),
  TAU_E_RUN_SKIPPED_UPSTREAM_FAILED: spec(200, "The run was skipped because a pipeline it depends on did not succeed.", "Fix the upstream pipeline named in details.upstream (tau inspect UPSTREAM --last-run), then run the graph again with `tau dag run --from UPSTREAM`."),
  TAU_E_RUN_SKIPPED_UPSTREAM_MISSING: spec(200, "The run was skipped because a pipeline it depends on is not deployed.", "Deploy the pipeline named in details.upstream, or remove it from the dependencies (tau depends NAME --on …)."),

  // ── daemon (taud) and its store ──────────────────────────────────────────────────────────────────
  TAU_E_DAEMON_OPTIONS_INVALID: spec(400, "Invalid taud option.", "Check the flag or TAU_* variable named in details.option; run `taud --help` for the accepted options."),
  TAU_E_DAEMON_HOME_LOCKED: spec(409, "Another taud is already using this home folder.", "Stop the daemon whose pid is in details.pid, or start this one with another --home (TAU_HOME)."),
  TAU_E_DATABASE_LOCKED: spec(409, "Another taud API daemon is already using this PostgreSQL database.", "Stop the daemon named in details (host, pid), or point this one at another database (TAU_DATABASE_URL). Only one API daemon may use a database; add capacity with `taud worker` processes, which share it."),
  TAU_E_DAEMON_SHUTTING_DOWN: spec(503, "taud is shutting down and accepts no new work.", "Wait for the daemon to restart, then retry.", true),
  TAU_E_DASHBOARD_NOT_BUILT: spec(503, "This taud has no built dashboard to serve.", "Run `npm run build` in the Tau checkout (it writes dist/web/), then restart taud; the API under /api works without it."),
  TAU_E_REQUEST_TOO_LARGE: spec(413, "The request body is too large.", "Send less data per request; details.limitBytes gives the limit."),
  TAU_E_RUN_QUEUE_FULL: spec(429, "Too many runs are queued.", "Wait for queued runs to finish (tau status shows the queue), then retry.", true),
  TAU_E_STORE_BUSY: spec(503, "The daemon's database is busy.", "Retry in a moment. If it persists, check that no other process holds TAU_HOME/tau.db open.", true),
  TAU_E_STORE_CONFLICT: spec(409, "A concurrent change conflicted with this one.", "Retry the command; it was not applied.", true),
  TAU_E_DEPLOY_EVALUATION_FAILED: spec(422, "Evaluating the pipeline file in the sandbox failed.", "The file's top-level code threw or ran out of limits while its meta was read; details.cause says where. Keep top-level code to imports and the pipeline() call."),
  TAU_E_EVENTS_SLOW_CONSUMER: spec(429, "The event stream was closed because the client did not keep up.", "Reconnect and subscribe again with afterSeq set to the last seq you processed; nothing is lost.", true),
  TAU_E_STORE_FAILED: spec(500, "The daemon could not read or write its database.", "Check free disk space and the permissions of TAU_HOME (details.home); the daemon's stderr log has the database's message."),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES: readonly ErrorCode[] = Object.keys(ERRORS) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(ERRORS, value);
}

/** The error body every Tau surface prints: `{"error": ErrorBody}`. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  hint: string;
  details: Record<string, unknown>;
}

/**
 * A Tau error. Thrown inside the daemon and CLI; serialised as plain data (`toBody()`) whenever it
 * crosses a process or isolate boundary, so `instanceof` is never needed on the far side.
 */
export class TauError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly hint: string;

  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}, hint?: string) {
    super(message ?? ERRORS[code].message);
    this.name = "TauError";
    this.code = code;
    this.details = details;
    this.hint = hint ?? ERRORS[code].hint;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  get retryable(): boolean {
    return ERRORS[this.code].retryable;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }

  /** Rebuilds a TauError from a body received over HTTP/IPC; unknown codes become TAU_E_INTERNAL. */
  static fromBody(body: unknown): TauError {
    const b = (body ?? {}) as Partial<ErrorBody>;
    if (!isErrorCode(b.code)) {
      return new TauError("TAU_E_INTERNAL", typeof b.message === "string" ? b.message : undefined, { received: b.code ?? null });
    }
    const details = b.details && typeof b.details === "object" ? (b.details as Record<string, unknown>) : {};
    return new TauError(b.code, typeof b.message === "string" ? b.message : undefined, details, typeof b.hint === "string" ? b.hint : undefined);
  }
}

export function isTauError(err: unknown): err is TauError {
  return err instanceof TauError;
}
