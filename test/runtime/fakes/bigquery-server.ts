/**
 * A loopback server speaking BigQuery's REST API v2 for the calls the `bigquery` driver makes (reached with
 * the client's `apiEndpoint` and an OAuth2 access token):
 *   POST /bigquery/v2/projects/{p}/jobs                         jobs.insert (query jobs; runs at once, state DONE)
 *   GET  /bigquery/v2/projects/{p}/queries/{jobId}              jobs.getQueryResults (maxResults + pageToken paging;
 *                                                               `jobComplete: false` twice for a query marked \/* pending *\/)
 *   GET  /bigquery/v2/projects/{p}/jobs/{jobId}, POST …/cancel  jobs.get / jobs.cancel
 *   POST /bigquery/v2/projects/{p}/queries                      jobs.query (first page inline)
 *   GET  /bigquery/v2/projects/{p}/datasets/{d}/tables/{t}      tables.get (schema)
 *   POST /bigquery/v2/projects/{p}/datasets/{d}/tables/{t}/insertAll   tabledata.insertAll (insertErrors per row)
 * Errors use Google's shape `{error:{code, message, errors:[{reason, message}], status}}` (notFound,
 * invalidQuery, accessDenied, authError, …); a failed job reports them in `status.errorResult`/`status.errors`.
 * Results are `{schema:{fields}, rows:[{f:[{v}]}]}` with values as strings (TIMESTAMP as int64 microseconds).
 * Storage and SQL semantics come from DuckDB (duck-engine.ts): datasets are DuckDB schemas.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { DuckDBValue } from "@duckdb/node-api";
import { DuckEngine, DuckEngineError, backticksToDouble, duckName, nameParts, splitTopLevel, unquote, type DeclaredColumn, type QueryResult } from "./duck-engine";

interface Field {
  name: string;
  type: string;
  mode: string;
}

interface StoredJob {
  id: string;
  projectId: string;
  location: string;
  query: string;
  fields: Field[];
  rows: unknown[][];
  affected: number | null;
  error: { reason: string; message: string } | null;
  /** getQueryResults answers `jobComplete: false` this many times first (a query marked with a pending comment). */
  pendingPolls: number;
}

class BqError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeBigQueryOptions {
  token?: string;
  datasets?: string[];
  /** Tables whose access is denied (accessDenied 403). */
  denied?: string[];
}

export interface RecordedBqRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number;
}

export class FakeBigQuery {
  readonly requests: RecordedBqRequest[] = [];
  private readonly jobs = new Map<string, StoredJob>();

  private constructor(
    readonly engine: DuckEngine,
    private readonly server: Server,
    private readonly o: FakeBigQueryOptions,
  ) {}

  static async start(o: FakeBigQueryOptions = {}): Promise<FakeBigQuery> {
    const engine = await DuckEngine.create(o.datasets ?? []);
    let fake: FakeBigQuery | null = null;
    const server = createServer((req, res) => void fake!.handle(req, res));
    fake = new FakeBigQuery(engine, server, o);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.engine.close();
  }

  /** Runs BigQuery SQL directly (setup and assertions); rows as objects with Tau-style values. */
  async sql(query: string): Promise<Record<string, unknown>[]> {
    const r = await this.run(query, []);
    return r.rows.map((values) => Object.fromEntries(r.names.map((n, i) => [n, values[i]])));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    const record: RecordedBqRequest = { method: req.method ?? "", path: url.pathname, query: Object.fromEntries(url.searchParams), body, status: 200 };
    this.requests.push(record);
    const send = (status: number, value: unknown): void => {
      record.status = status;
      res.statusCode = status;
      res.setHeader("Content-Type", "application/json; charset=UTF-8");
      res.end(JSON.stringify(value));
    };
    try {
      const auth = req.headers.authorization;
      if (!auth) throw new BqError(401, "required", "Request is missing required authentication credential. Expected OAuth 2 access token.");
      if (auth !== `Bearer ${this.o.token ?? "test-token"}`) throw new BqError(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token.");
      const p = url.pathname.replace(/^\/bigquery\/v2/, "");
      let m: RegExpExecArray | null;
      if (req.method === "POST" && (m = /^\/projects\/([^/]+)\/jobs$/.exec(p))) {
        const b = body as { jobReference?: { jobId?: string; location?: string }; configuration?: { query?: { query: string; queryParameters?: unknown[] } } };
        const job = await this.runJob(m[1], b.jobReference?.jobId ?? `job_${this.jobs.size + 1}`, b.jobReference?.location ?? "US", b.configuration?.query?.query ?? "", b.configuration?.query?.queryParameters ?? []);
        return send(200, this.jobResource(job));
      }
      if (req.method === "POST" && (m = /^\/projects\/([^/]+)\/queries$/.exec(p))) {
        const b = body as { query: string; queryParameters?: unknown[]; maxResults?: number; location?: string };
        const job = await this.runJob(m[1], `job_q${this.jobs.size + 1}`, b.location ?? "US", b.query, b.queryParameters ?? []);
        if (job.error) throw new BqError(400, job.error.reason, job.error.message);
        return send(200, this.resultsPage(job, b.maxResults, undefined));
      }
      if (req.method === "GET" && (m = /^\/projects\/([^/]+)\/queries\/([^/]+)$/.exec(p))) {
        const job = this.jobs.get(m[2]);
        if (!job) throw new BqError(404, "notFound", `Not found: Job ${m[1]}:US.${m[2]}`);
        if (job.error) throw new BqError(400, job.error.reason, job.error.message);
        if (job.pendingPolls > 0) {
          job.pendingPolls--;
          return send(200, { kind: "bigquery#getQueryResultsResponse", jobReference: { projectId: job.projectId, jobId: job.id, location: job.location }, jobComplete: false });
        }
        const max = url.searchParams.get("maxResults");
        return send(200, this.resultsPage(job, max === null ? undefined : Number(max), url.searchParams.get("pageToken") ?? undefined));
      }
      if ((m = /^\/projects\/([^/]+)\/jobs\/([^/]+)(\/cancel)?$/.exec(p))) {
        const job = this.jobs.get(m[2]);
        if (!job) throw new BqError(404, "notFound", `Not found: Job ${m[1]}:US.${m[2]}`);
        return send(200, m[3] ? { kind: "bigquery#jobCancelResponse", job: this.jobResource(job) } : this.jobResource(job));
      }
      if (req.method === "GET" && (m = /^\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)$/.exec(p))) {
        const [project, dataset, table] = [m[1], decodeURIComponent(m[2]), decodeURIComponent(m[3])];
        this.checkAccess(table);
        if (!(await this.engine.tableExists(dataset, table))) throw new BqError(404, "notFound", `Not found: Table ${project}:${dataset}.${table}`);
        const fields = (this.engine.catalog.get(DuckEngine.key(dataset, table)) ?? []).map(toField);
        return send(200, { kind: "bigquery#table", id: `${project}:${dataset}.${table}`, tableReference: { projectId: project, datasetId: dataset, tableId: table }, schema: { fields }, type: "TABLE" });
      }
      if (req.method === "POST" && (m = /^\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)\/insertAll$/.exec(p))) {
        const [project, dataset, table] = [m[1], decodeURIComponent(m[2]), decodeURIComponent(m[3])];
        if (!(await this.engine.tableExists(dataset, table))) throw new BqError(404, "notFound", `Not found: Table ${project}:${dataset}.${table}`);
        return send(200, await this.insertAll(dataset, table, (body as { rows: { insertId?: string; json: Record<string, unknown> }[] }).rows));
      }
      throw new BqError(404, "notFound", `Not found: URL ${url.pathname}`);
    } catch (err) {
      const e = err instanceof BqError ? err : new BqError(500, "internalError", String(err));
      const status = { 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND" }[e.status] ?? "INTERNAL";
      send(e.status, { error: { code: e.status, message: e.message, errors: [{ message: e.message, domain: "global", reason: e.reason }], status } });
    }
  }

  private checkAccess(sqlOrTable: string): void {
    const denied = (this.o.denied ?? []).find((t) => new RegExp(`\\b${t}\\b`).test(sqlOrTable));
    if (denied) throw new BqError(403, "accessDenied", `Access Denied: Table ${denied}: User does not have permission to query table ${denied}.`);
  }

  private jobResource(job: StoredJob): unknown {
    return {
      kind: "bigquery#job",
      id: `${job.projectId}:${job.location}.${job.id}`,
      jobReference: { projectId: job.projectId, jobId: job.id, location: job.location },
      configuration: { query: { query: job.query, useLegacySql: false }, jobType: "QUERY" },
      status: job.error ? { state: "DONE", errorResult: job.error, errors: [job.error] } : { state: "DONE" },
      statistics: { query: job.affected !== null ? { numDmlAffectedRows: String(job.affected) } : {} },
    };
  }

  private resultsPage(job: StoredJob, maxResults: number | undefined, pageToken: string | undefined): unknown {
    const start = pageToken ? Number(pageToken) : 0;
    const end = maxResults === undefined ? job.rows.length : Math.min(job.rows.length, start + maxResults);
    const page = job.rows.slice(start, end).map((values) => ({ f: values.map((v, i) => ({ v: cell(v, job.fields[i]) })) }));
    return {
      kind: "bigquery#getQueryResultsResponse",
      jobReference: { projectId: job.projectId, jobId: job.id, location: job.location },
      schema: { fields: job.fields },
      totalRows: String(job.rows.length),
      ...(page.length > 0 ? { rows: page } : {}),
      ...(end < job.rows.length ? { pageToken: String(end) } : {}),
      ...(job.affected !== null ? { numDmlAffectedRows: String(job.affected) } : {}),
      jobComplete: true,
      cacheHit: false,
    };
  }

  private async runJob(projectId: string, id: string, location: string, query: string, parameters: unknown[]): Promise<StoredJob> {
    const job: StoredJob = { id, projectId, location, query, fields: [], rows: [], affected: null, error: null, pendingPolls: /\/\* pending \*\//.test(query) ? 2 : 0 };
    this.jobs.set(id, job);
    try {
      this.checkAccess(query);
      const values = parameters.map((p) => {
        const q = p as { parameterType: { type: string }; parameterValue?: { value?: string | null } };
        const v = q.parameterValue?.value ?? null;
        if (v === null) return null;
        if (q.parameterType.type === "INT64") return Number(v);
        if (q.parameterType.type === "FLOAT64") return Number(v);
        if (q.parameterType.type === "BOOL") return v === "true";
        return v;
      });
      const r = await this.run(query, values);
      job.fields = r.names.map((n, i) => ({ name: n, type: r.declared?.[i] ?? bqTypeOfDuck(r.duckTypes[i]), mode: "NULLABLE" }));
      job.rows = r.rows;
      if (/^\s*(INSERT|UPDATE|DELETE|MERGE)\b/i.test(query)) job.affected = r.rowsChanged;
    } catch (err) {
      const e = err instanceof BqError ? err : err instanceof DuckEngineError ? fromDuck(err) : new BqError(500, "internalError", String(err));
      job.error = { reason: e.reason, message: e.message };
    }
    return job;
  }

  private async insertAll(dataset: string, table: string, rows: { insertId?: string; json: Record<string, unknown> }[]): Promise<unknown> {
    const columns = this.engine.catalog.get(DuckEngine.key(dataset, table)) ?? [];
    const invalid: { index: number; errors: { reason: string; message: string }[] }[] = [];
    rows.forEach((r, index) => {
      for (const [k, v] of Object.entries(r.json)) {
        const col = columns.find((c) => c.name.toLowerCase() === k.toLowerCase());
        if (!col) {
          invalid.push({ index, errors: [{ reason: "invalid", message: `no such field: ${k}.` }] });
          return;
        }
        if (v !== null && !fits(col.type, v)) {
          invalid.push({ index, errors: [{ reason: "invalid", message: `Cannot convert value to ${col.type.toLowerCase()}.; field: ${k}; value: ${String(v)}` }] });
          return;
        }
      }
    });
    if (invalid.length > 0) {
      const bad = new Set(invalid.map((i) => i.index));
      const stopped = rows.map((_r, index) => index).filter((i) => !bad.has(i)).map((index) => ({ index, errors: [{ reason: "stopped", message: "" }] }));
      return { kind: "bigquery#tableDataInsertAllResponse", insertErrors: [...invalid, ...stopped] };
    }
    const names = columns.map((c) => c.name);
    for (let i = 0; i < rows.length; i += 500) {
      const slice = rows.slice(i, i + 500);
      const values: DuckDBValue[] = [];
      const tuples = slice.map((r) => {
        const lower = new Map(Object.entries(r.json).map(([k, v]) => [k.toLowerCase(), v]));
        for (const n of names) {
          const v = lower.get(n.toLowerCase());
          values.push(v === undefined || v === null ? null : typeof v === "object" ? JSON.stringify(v) : (v as DuckDBValue));
        }
        return `(${names.map(() => "?").join(", ")})`;
      });
      await this.engine.run(`INSERT INTO ${duckName([dataset, table])} (${names.map((n) => duckName([n])).join(", ")}) VALUES ${tuples.join(", ")}`, values);
    }
    return { kind: "bigquery#tableDataInsertAllResponse" };
  }

  /** BigQuery SQL → DuckDB; DDL keeps the declared BigQuery types in the catalog. */
  private async run(query: string, values: DuckDBValue[]): Promise<QueryResult & { declared?: string[] }> {
    const q = query.trim().replace(/;$/, "");
    const empty: QueryResult = { names: [], duckTypes: [], rows: [], rowsChanged: 0 };
    let m: RegExpExecArray | null;
    if ((m = /^CREATE\s+TABLE\s+(\S+)\s*\((.*)\)$/is.exec(q))) {
      const [d, t] = this.resolve(m[1]);
      const cols = splitTopLevel(m[2]).map(parseColumnDef);
      await this.engine.run(`CREATE TABLE ${duckName([d, t])} (${cols.map((c) => `${duckName([c.name])} ${duckTypeOfBq(c.type)}`).join(", ")})`);
      this.engine.catalog.set(DuckEngine.key(d, t), cols);
      return empty;
    }
    if ((m = /^CREATE\s+(OR\s+REPLACE\s+)?TABLE\s+(\S+)\s+AS\s+(SELECT\s.*)$/is.exec(q))) {
      const [d, t] = this.resolve(m[2]);
      const select = this.translate(m[3]);
      await this.engine.run(`CREATE ${m[1] ? "OR REPLACE " : ""}TABLE ${duckName([d, t])} AS ${select}`);
      const from = /\bFROM\s+(\S+)\s*$/i.exec(m[3]);
      const source = from ? this.engine.catalog.get(this.keyOf(from[1])) ?? [] : [];
      const shape = await this.engine.run(`SELECT * FROM ${duckName([d, t])} LIMIT 0`);
      this.engine.catalog.set(
        DuckEngine.key(d, t),
        shape.names.map((n, i) => ({ name: n, type: source.find((c) => c.name === n)?.type ?? bqTypeOfDuck(shape.duckTypes[i]) })),
      );
      return empty;
    }
    if ((m = /^ALTER\s+TABLE\s+(\S+)\s+(ADD\s+COLUMN\s.*)$/is.exec(q))) {
      const [d, t] = this.resolve(m[1]);
      const cols = this.engine.catalog.get(DuckEngine.key(d, t)) ?? [];
      for (const clause of splitTopLevel(m[2])) {
        const c = /^ADD\s+COLUMN\s+(?:IF\s+NOT\s+EXISTS\s+)?(.*)$/is.exec(clause);
        if (!c) throw new BqError(400, "invalidQuery", `Syntax error: Unexpected ${clause}`);
        const def = parseColumnDef(c[1]);
        if (cols.some((x) => x.name.toLowerCase() === def.name.toLowerCase())) continue;
        await this.engine.run(`ALTER TABLE ${duckName([d, t])} ADD COLUMN ${duckName([def.name])} ${duckTypeOfBq(def.type)}`);
        cols.push(def);
      }
      this.engine.catalog.set(DuckEngine.key(d, t), cols);
      return empty;
    }
    if ((m = /^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?(\S+)$/is.exec(q))) {
      const [d, t] = this.resolve(m[2]);
      await this.engine.run(`DROP TABLE ${m[1] ?? ""} ${duckName([d, t])}`);
      this.engine.catalog.delete(DuckEngine.key(d, t));
      return empty;
    }
    if (/^SELECT\s+SLEEP/i.test(q)) throw new BqError(400, "jobTimeout", "Job execution was cancelled: Job timed out after 1 sec");
    const r = await this.engine.run(this.translate(q), values.length > 0 ? values : undefined);
    // Columns read straight from one table keep their declared BigQuery types.
    const from = /\bFROM\s+(\S+)/i.exec(q);
    const declared = from ? this.engine.catalog.get(this.keyOf(from[1])) : undefined;
    return { ...r, declared: declared ? r.names.map((n, i) => declared.find((c) => c.name === n)?.type ?? bqTypeOfDuck(r.duckTypes[i])) : undefined };
  }

  /** `p`.`d`.`t` / d.t → [dataset, table]. */
  private resolve(text: string): [string, string] {
    const parts = nameParts(text);
    if (parts.length < 2) throw new BqError(400, "invalidQuery", `Table "${text}" must be qualified with a dataset (e.g. dataset.table).`);
    return [parts[parts.length - 2], parts[parts.length - 1]];
  }

  private keyOf(text: string): string {
    const parts = nameParts(text);
    return parts.length >= 2 ? DuckEngine.key(parts[parts.length - 2], parts[parts.length - 1]) : DuckEngine.key(null, parts[0]);
  }

  private translate(sql: string): string {
    // `project`.`dataset`.`table` → "dataset"."table"; then any other backticks → double quotes.
    return backticksToDouble(sql.replace(/`[^`]+`\.(`[^`]+`\.`[^`]+`)/g, "$1"));
  }
}

function fromDuck(err: DuckEngineError): BqError {
  switch (err.kind) {
    case "syntax":
      return new BqError(400, "invalidQuery", `Syntax error: ${err.message.split("\n")[0]}`);
    case "unknown_table": {
      const name = /Table with name (\S+) does not exist/.exec(err.message)?.[1] ?? "?";
      return new BqError(404, "notFound", `Not found: Table ${name} was not found in location US`);
    }
    case "unknown_column": {
      const name = /column "?(\w+)"? not found|Referenced column "?(\w+)"?/i.exec(err.message);
      return new BqError(400, "invalidQuery", name ? `Unrecognized name: ${name[1] ?? name[2]}` : err.message);
    }
    case "conversion":
      return new BqError(400, "invalidQuery", `Could not cast: ${err.message}`);
    default:
      return new BqError(400, "invalidQuery", err.message);
  }
}

function parseColumnDef(def: string): DeclaredColumn {
  const m = /^(`(?:[^`\\]|\\.)*`|\S+)\s+(.+)$/s.exec(def.trim());
  if (!m) throw new BqError(400, "invalidQuery", `Syntax error: column definition ${def}`);
  return { name: unquote(m[1]), type: m[2].trim() };
}

function toField(c: DeclaredColumn): Field {
  const repeated = /^ARRAY<(.*)>$/.exec(c.type);
  return repeated ? { name: c.name, type: repeated[1], mode: "REPEATED" } : { name: c.name, type: c.type, mode: "NULLABLE" };
}

function fits(type: string, v: unknown): boolean {
  switch (type) {
    case "INT64":
      return (typeof v === "number" && Number.isInteger(v)) || (typeof v === "string" && /^-?\d+$/.test(v));
    case "FLOAT64":
      return typeof v === "number" || (typeof v === "string" && !Number.isNaN(Number(v)));
    case "BOOL":
      return typeof v === "boolean";
    case "DATE":
      return typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v);
    case "TIMESTAMP":
      return typeof v === "string" && !Number.isNaN(Date.parse(v.replace(" ", "T")));
    case "GEOGRAPHY":
      return typeof v === "string" && /^(POINT|LINESTRING|POLYGON)\(/.test(v);
    default:
      return true;
  }
}

export function duckTypeOfBq(type: string): string {
  switch (type.toUpperCase()) {
    case "INT64":
    case "INTEGER":
      return "BIGINT";
    case "FLOAT64":
    case "FLOAT":
      return "DOUBLE";
    case "NUMERIC":
      return "DECIMAL(38, 9)";
    case "BOOL":
    case "BOOLEAN":
      return "BOOLEAN";
    case "DATE":
      return "DATE";
    case "TIMESTAMP":
      return "TIMESTAMPTZ";
    case "DATETIME":
      return "TIMESTAMP";
    case "JSON":
      return "JSON";
    default:
      return "VARCHAR";
  }
}

function bqTypeOfDuck(type: string): string {
  if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT)$/.test(type)) return "INT64";
  if (type === "DOUBLE" || type === "FLOAT") return "FLOAT64";
  if (type.startsWith("DECIMAL")) return "NUMERIC";
  if (type === "BOOLEAN") return "BOOL";
  if (type === "DATE") return "DATE";
  if (type.startsWith("TIMESTAMP")) return "TIMESTAMP";
  if (type === "JSON") return "JSON";
  return "STRING";
}

/** A value in getQueryResults' wire form: strings, TIMESTAMP as int64 microseconds, JSON as text. */
function cell(v: unknown, field: Field): unknown {
  if (v === null || v === undefined) return null;
  if (field.type === "TIMESTAMP" && typeof v === "string") {
    const m = /\.(\d{3})(\d{0,3})Z$/.exec(v);
    const micros = BigInt(Date.parse(v)) * 1000n + BigInt((m?.[2] ?? "").padEnd(3, "0") || "0");
    return micros.toString();
  }
  if (field.type === "JSON") return typeof v === "string" ? v : JSON.stringify(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
