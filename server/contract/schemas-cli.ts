/**
 * The schema of each `tau` command's stdout, in terms of the API's views (schemas.ts): most commands print
 * a view as the API returns it, some wrap it (`tau list` prints `{pipelines: [...]}`), a few print what only
 * the CLI knows (`tau init`, `tau dashboard`, `tau version`).
 *
 * `renderCliSchemas()` turns them into the files of cli/schemas/ (`npx tsx scripts/cli-schemas.ts` writes
 * them; test/contract/cli-schemas.test.ts fails when the committed files differ): one file per command,
 * plus `error.schema.json` (any command's failure), `logs-follow.schema.json` (one NDJSON line) and
 * `common.schema.json`, whose `$defs` hold every shared view a command prints, referenced by name.
 */
import {
  ErrorCode,
  LogLevel,
  Name,
  RunStatus,
  RunTrigger,
  StepStatus,
  Time,
  TimeOrNull,
  nullable,
  object,
  orNull,
  type Schema,
} from "./schemas-base";
import * as S from "./schemas";

const JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema";
const COMMON_FILE = "common.schema.json";
const GENERATED = "Generated from server/contract/schemas-cli.ts by `npx tsx scripts/cli-schemas.ts`; do not edit by hand.";

export interface CliOutput {
  /** What the command prints, for a reader of the schema file. */
  title: string;
  schema: Schema;
}

const StringArray: Schema = { type: "array", items: { type: "string" } };
const listOf = (key: string, view: Schema): Schema => object({ [key]: { type: "array", items: view } });

/** Output of every command, and of the two documents that are not one command's answer; by file stem. */
export const CLI_OUTPUTS: Record<string, CliOutput> = {
  cancel: { title: "tau cancel RUN_ID: the run after the cancel (RunView); exit 0 only when status is cancelled", schema: S.RunView },
  code: { title: "tau code NAME: a version's source as deployed (CodeView)", schema: S.CodeView },
  dag: {
    title:
      "tau dag: the graph (DagView), or {format, text} with --format mermaid|dot; tau dag run: the graph run (GraphRunView), exit 0 only when it succeeded",
    schema: { oneOf: [S.DagView, S.DagTextView, S.GraphRunView] },
  },
  dashboard: {
    title: "tau dashboard: the dashboard's URL, and whether a browser was opened on it",
    schema: object({ url: { type: "string", pattern: "^https?://[^ ]+/(#/.*)?$" }, opened: { type: "boolean" } }),
  },
  depends: { title: "tau depends NAME [--on A --on B | --clear | --reset]: the dependencies in effect (DependsView)", schema: S.DependsView },
  deploy: { title: "tau deploy FILE: the DeployResponse", schema: S.DeployResponse },
  error: { title: "What every tau command prints on stdout when it fails (non-zero exit)", schema: S.ErrorResponse },
  errors: { title: "tau errors: recent failed runs across pipelines, newest first", schema: listOf("errors", S.RunSummary) },
  init: {
    title: "tau init [DIR]: what was written",
    schema: object({
      dir: Name,
      files: { ...StringArray, description: "Paths relative to dir, sorted: everything init wrote." },
      overwritten: { ...StringArray, description: "Paths relative to dir that existed and were replaced (only with --force)." },
      example: { type: "string" },
      modules: {
        type: "object",
        description: "Module specifier → declaration file, as written to tsconfig.json's paths.",
        required: ["tau"],
        additionalProperties: { type: "string" },
      },
    }),
  },
  inspect: {
    title: "tau inspect NAME: the pipeline (PipelineDetailView); with --last-run or --run ID: the run (RunView)",
    schema: { oneOf: [S.PipelineDetailView, S.RunView] },
  },
  list: { title: "tau list: the deployed pipelines", schema: listOf("pipelines", S.PipelineView) },
  "logs-follow": {
    title: "tau logs NAME --follow: ONE LINE of its NDJSON output (a run event, or a final error)",
    schema: { oneOf: [S.RunEvent, S.ErrorResponse] },
  },
  logs: {
    title: "tau logs NAME (without --follow): one run's log lines",
    schema: object({ pipeline: Name, runId: Name, status: RunStatus, logs: { type: "array", items: S.LogLine } }),
  },
  policy: { title: "tau policy [get] | tau policy set FILE|--stdin [--tenant T]: the tenant's policy in effect", schema: S.PolicyView },
  rollback: { title: "tau rollback NAME: the pipeline with its new current version (RollbackResponse)", schema: S.RollbackResponse },
  run: { title: "tau run NAME: the run (RunView); exit 0 only when status is succeeded", schema: S.RunView },
  runs: {
    title: "tau runs NAME: the pipeline's runs, newest first (no steps or logs)",
    schema: object({ pipeline: Name, runs: { type: "array", items: S.RunSummary } }),
  },
  schedule: {
    title: "tau schedule NAME [CRON] [--tz ZONE] [--every SEC] [--enable|--disable] [--reset]: the schedule in effect (ScheduleView)",
    schema: S.ScheduleView,
  },
  secrets: {
    title: "tau secrets [list] | set NAME (--value V | --stdin) | delete NAME: names only, never values",
    schema: { oneOf: [listOf("secrets", S.SecretView), S.SecretWritten, S.SecretDeleted] },
  },
  status: { title: "tau status: the daemon's health (StatusView)", schema: S.StatusView },
  tenants: {
    title: "tau tenants [list] | tau tenants create ID [--name NAME]: the tenants the token may see, or the tenant created",
    schema: { oneOf: [listOf("tenants", S.TenantView), S.TenantView] },
  },
  workers: { title: "tau workers: the worker processes runs execute on (WorkersView)", schema: S.WorkersView },
  tokens: { title: "tau tokens issue --role R [--tenant T] [--ttl 1h]: the token, for TAU_TOKEN", schema: S.IssuedToken },
  version: {
    title: "tau version: CLI version, and the daemon's when reachable (never fails only because the daemon is down)",
    schema: object({
      cli: S.VersionView,
      host: { type: "string" },
      daemon: orNull(S.VersionView),
      daemonError: orNull(S.ErrorBody),
      compatible: { ...nullable("boolean"), description: "Whether CLI and daemon speak the same API version; null when the daemon did not answer." },
    }),
  },
};

/** What common.schema.json may define: the API's views and the scalar types many of them share. */
const DEFINABLE: Record<string, Schema> = { ...S.COMPONENTS, ErrorCode, LogLevel, RunStatus, RunTrigger, StepStatus, Time, TimeOrNull };
const NAMES = new Map<unknown, string>(Object.entries(DEFINABLE).map(([name, schema]) => [schema, name]));

/** The files of cli/schemas/, by file name, as they must read (2-space JSON, one trailing newline). */
export function renderCliSchemas(): Record<string, string> {
  const used = new Set<string>();
  const files: Record<string, unknown> = {};
  for (const [stem, { title, schema }] of Object.entries(CLI_OUTPUTS)) {
    const id = `${stem}.schema.json`;
    const body = NAMES.has(schema) ? { $ref: refTo(NAMES.get(schema)!, COMMON_FILE, used) } : withRefs(schema, COMMON_FILE, used);
    files[id] = { $schema: JSON_SCHEMA_DIALECT, $id: id, title, description: GENERATED, ...(body as Schema) };
  }
  // Definitions refer to further definitions: add them until none is missing.
  const defs: Record<string, unknown> = {};
  for (let pending = [...used]; pending.length > 0; pending = [...used].filter((name) => !(name in defs))) {
    for (const name of pending) defs[name] = withRefs(DEFINABLE[name], "", used, DEFINABLE[name]);
  }
  const sortedDefs = Object.fromEntries(Object.keys(defs).sort().map((name) => [name, defs[name]]));
  files[COMMON_FILE] = {
    $schema: JSON_SCHEMA_DIALECT,
    $id: COMMON_FILE,
    title: "Shared definitions of tau's JSON output: the API's views (server/contract/schemas.ts)",
    description: GENERATED,
    $defs: sortedDefs,
  };
  return Object.fromEntries(Object.keys(files).sort().map((name) => [name, `${formatJson(files[name], "")}\n`]));
}

/** An array or object whose one-line form is at most this long stays on one line. */
const INLINE_CHARS = 100;

/** JSON with 2-space indentation, like JSON.stringify(value, null, 2), but short arrays and objects on one line. */
function formatJson(value: unknown, indent: string): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const oneLine = inlineJson(value);
  if (oneLine.length <= INLINE_CHARS) return oneLine;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((item) => inner + formatJson(item, inner)).join(",\n")}\n${indent}]`;
  const entries = Object.entries(value);
  return `{\n${entries.map(([key, item]) => `${inner}${JSON.stringify(key)}: ${formatJson(item, inner)}`).join(",\n")}\n${indent}}`;
}

function inlineJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(", ")}]`;
  const entries = Object.entries(value);
  return entries.length === 0 ? "{}" : `{ ${entries.map(([key, item]) => `${JSON.stringify(key)}: ${inlineJson(item)}`).join(", ")} }`;
}

function refTo(name: string, file: string, used: Set<string>): string {
  used.add(name);
  return `${file}#/$defs/${name}`;
}

/** A copy of `schema` with every definable view (except `self`) replaced by a $ref into `file`. */
function withRefs(schema: unknown, file: string, used: Set<string>, self?: unknown): unknown {
  if (schema !== self && NAMES.has(schema)) return { $ref: refTo(NAMES.get(schema)!, file, used) };
  if (Array.isArray(schema)) return schema.map((item) => withRefs(item, file, used));
  if (schema !== null && typeof schema === "object") {
    return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, withRefs(value, file, used)]));
  }
  return schema;
}
