/**
 * `bigquery`, host side, with the official @google-cloud/bigquery client over BigQuery's REST API v2. The
 * client is imported at open time. Every statement runs as a query job (`jobs.insert`), whose results are
 * read page by page with `jobs.getQueryResults` (`maxResults` = the batch size, `pageToken`), so `stream()`
 * holds one page at a time; `getSchema` is `tables.get`; loads stream rows into a staging table with
 * `tabledata.insertAll` (see bigquery-sql.ts for how each mode finishes).
 *
 * Options: `{ projectId, credentials?, accessToken?, dataset?, location?, apiEndpoint?, timeoutMs? }` —
 * `credentials` is a service-account key (JSON text, usually `ctx.secret(…)`), `accessToken` an OAuth2
 * access token; without either the client uses Application Default Credentials of the host. Parameters are
 * positional `?`. The API host (and, for a service-account key, the OAuth token host) is resolved and checked
 * against the egress policy at open; the Google client then resolves it again itself (it offers no hook to
 * pin the address), so a rebinding DNS answer is not caught for this connector.
 */
import { TauError } from "../../server/contract";
import { convertBigQueryError } from "./bigquery-errors";
import {
  bigquerySql,
  bqFamily,
  bqInsertValue,
  bqParamType,
  bqReadValue,
  bqTableSql,
  bqTypeFor,
  parseBigQueryTable,
  type BigQueryTable,
  type BqField,
} from "./bigquery-sql";
import type { ConnectorContext, ConnectorDriver, LoadRequest, LoadingConnector, RowCursor, RowSource, StreamingConnector } from "./types";
import {
  CallQueue,
  argsInvalid,
  checkOptionKeys,
  checkedAddress,
  collectExtract,
  loadDriver,
  optionalNumber,
  optionalString,
  requireParams,
  requireSql,
  requiredString,
  stageName,
  urlPort,
  type Row,
  type SqlScalar,
} from "./warehouse-common";
import { callSqlConnector } from "./sql-call";
import { runStagedLoad, type TargetColumn } from "./warehouse-load";

export const BIGQUERY_KIND = "bigquery";
const LOAD_MODES = ["append", "replace", "upsert"] as const;
const OPTIONS = ["projectId", "credentials", "accessToken", "dataset", "location", "apiEndpoint", "timeoutMs"] as const;
const DEFAULT_ENDPOINT = "https://bigquery.googleapis.com";
const INSERT_ROWS = 500;
const INSERT_BYTES = 8 * 1024 * 1024;

type BigQueryModule = typeof import("@google-cloud/bigquery");
type BigQueryClient = InstanceType<BigQueryModule["BigQuery"]>;
type Job = ReturnType<BigQueryClient["job"]>;

interface QueryPage {
  rows?: { f: { v: unknown }[] }[];
  schema?: { fields?: BqField[] };
  pageToken?: string;
  jobComplete?: boolean;
  numDmlAffectedRows?: string;
}

export class BigQueryDriver implements ConnectorDriver {
  readonly kind = BIGQUERY_KIND;

  async open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<BigQueryConnector> {
    checkOptionKeys(this.kind, options, OPTIONS);
    const projectId = requiredString(this.kind, options, "projectId");
    const credentialsText = optionalString(this.kind, options, "credentials");
    const accessToken = optionalString(this.kind, options, "accessToken");
    if (credentialsText && accessToken) throw argsInvalid("bigquery takes credentials or accessToken, not both.", { option: "accessToken" });
    let credentials: { client_email?: string; private_key?: string } | undefined;
    if (credentialsText) {
      try {
        credentials = JSON.parse(credentialsText) as { client_email?: string; private_key?: string };
      } catch {
        throw argsInvalid("bigquery's credentials must be a service-account key in JSON (the file's content, e.g. from ctx.secret(\"GCP_KEY\")).", { option: "credentials" });
      }
      if (typeof credentials?.client_email !== "string" || typeof credentials.private_key !== "string") {
        throw argsInvalid("bigquery's credentials need client_email and private_key (a service-account key).", { option: "credentials" });
      }
    }
    const endpointText = optionalString(this.kind, options, "apiEndpoint") ?? DEFAULT_ENDPOINT;
    let endpoint: URL;
    try {
      endpoint = new URL(endpointText);
    } catch {
      throw argsInvalid("bigquery's apiEndpoint must be an http(s) URL.", { option: "apiEndpoint" });
    }
    if (endpoint.protocol !== "https:" && endpoint.protocol !== "http:") throw argsInvalid("bigquery's apiEndpoint must be an http(s) URL.", { option: "apiEndpoint" });
    const host = endpoint.hostname;
    const port = urlPort(endpoint);
    await checkedAddress(ctx, this.kind, host, port);
    if (credentials) await checkedAddress(ctx, this.kind, "oauth2.googleapis.com", 443);
    const timeoutMs = optionalNumber(this.kind, options, "timeoutMs", 1000, 6 * 3600_000) ?? 600_000;
    const mod = await loadDriver(this.kind, "@google-cloud/bigquery", () => import("@google-cloud/bigquery"));
    let authClient: unknown;
    if (accessToken) {
      const auth = await loadDriver(this.kind, "google-auth-library", () => import("google-auth-library"));
      const client = new auth.OAuth2Client();
      client.setCredentials({ access_token: accessToken });
      authClient = client;
    }
    const client = new mod.BigQuery({
      projectId,
      location: optionalString(this.kind, options, "location"),
      apiEndpoint: endpoint.origin,
      credentials,
      ...(authClient ? { authClient: authClient as never } : {}),
      // The driver reports failures; the pipeline decides whether to retry a run.
      autoRetry: false,
      maxRetries: 0,
    });
    return new BigQueryConnector(client, ctx, {
      host,
      port,
      projectId,
      dataset: optionalString(this.kind, options, "dataset") ?? null,
      location: optionalString(this.kind, options, "location") ?? null,
      timeoutMs,
    });
  }
}

interface Where {
  host: string;
  port: number;
  projectId: string;
  dataset: string | null;
  location: string | null;
  timeoutMs: number;
}

export class BigQueryConnector implements StreamingConnector, LoadingConnector {
  readonly kind = BIGQUERY_KIND;
  private closed = false;
  private readonly queue = new CallQueue();
  private readonly running = new Set<Job>();

  constructor(
    private readonly client: BigQueryClient,
    private readonly ctx: ConnectorContext,
    private readonly where: Where,
  ) {}

  call(method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new TauError("TAU_E_CONNECTOR_CLOSED"));
    return callSqlConnector(this, (fn) => this.queue.run(fn), LOAD_MODES, method, args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Jobs still running are cancelled server-side (best effort): a closed run should not keep billing.
    await Promise.all([...this.running].map((j) => j.cancel().catch(() => undefined)));
    await this.queue.idle().catch(() => undefined);
  }

  private convert(err: unknown, extra: { sql?: string; table?: string } = {}): TauError {
    return convertBigQueryError(err, { ...extra, host: this.where.host, port: this.where.port });
  }

  /** Starts a query job (jobs.insert). */
  private async startJob(sql: string, params: readonly SqlScalar[]): Promise<Job> {
    const [job] = await this.client.createQueryJob({
      query: sql,
      ...(params.length > 0 ? { params: [...params], types: params.map(bqParamType) } : {}),
      ...(this.where.dataset ? { defaultDataset: { projectId: this.where.projectId, datasetId: this.where.dataset } } : {}),
      ...(this.where.location ? { location: this.where.location } : {}),
      jobTimeoutMs: this.where.timeoutMs,
      useLegacySql: false,
    });
    return job;
  }

  /** One page of a job's results (jobs.getQueryResults); waits while the job runs. */
  private async page(job: Job, maxResults: number, pageToken: string | undefined): Promise<QueryPage> {
    for (;;) {
      const [, , response] = (await job.getQueryResults({
        maxResults,
        pageToken,
        autoPaginate: false,
        skipParsing: true,
        // No timeoutMs: with it the client raises "did not complete" on the first jobComplete: false
        // instead of handing the answer back to poll again. The server's own wait (10 s) paces the loop.
        "formatOptions.useInt64Timestamp": true,
      } as never)) as unknown as [unknown, unknown, QueryPage];
      if (response.jobComplete !== false) return response;
    }
  }

  /** Runs a statement to completion; resolves with the first page (maxResults rows). */
  private async runToEnd(sql: string, params: readonly SqlScalar[] = [], maxResults = 0): Promise<QueryPage> {
    const job = await this.startJob(sql, params);
    this.running.add(job);
    try {
      return await this.page(job, maxResults, undefined);
    } finally {
      this.running.delete(job);
    }
  }

  async extract(sqlArg: unknown, paramsArg: unknown): Promise<unknown> {
    const sql = requireSql(sqlArg, "extract");
    const cursor = await this.openCursor(sql, requireParams(paramsArg), 10_000);
    return collectExtract(cursor, this.ctx, sql);
  }

  /** A query's result page by page: one getQueryResults request per batch, `batchSize` rows each. */
  async openCursor(sql: string, params: unknown[], batchSize: number): Promise<RowCursor> {
    let job: Job;
    let first: QueryPage;
    try {
      job = await this.startJob(sql, params as SqlScalar[]);
      this.running.add(job);
      first = await this.page(job, batchSize, undefined);
    } catch (err) {
      throw this.convert(err, { sql });
    }
    const fields = first.schema?.fields ?? [];
    let pending: QueryPage | null = first;
    let token = first.pageToken;
    let done = false;
    const toRows = (p: QueryPage): Row[] =>
      (p.rows ?? []).map((r) => {
        const row: Row = {};
        fields.forEach((f, i) => {
          row[f.name] = bqReadValue(r.f[i]?.v, f);
        });
        return row;
      });
    const finish = (): void => {
      done = true;
      this.running.delete(job);
    };
    return {
      next: async (): Promise<Row[] | null> => {
        for (;;) {
          if (pending) {
            const rows = toRows(pending);
            pending = null;
            if (rows.length > 0) return rows;
          }
          if (done || !token) {
            finish();
            return null;
          }
          try {
            pending = await this.page(job, batchSize, token);
          } catch (err) {
            finish();
            throw this.convert(err, { sql });
          }
          token = pending.pageToken;
        }
      },
      close: async (): Promise<void> => {
        pending = null;
        finish();
      },
    };
  }

  async execute(sqlArg: unknown, paramsArg: unknown): Promise<{ rowsAffected: number | null }> {
    const sql = requireSql(sqlArg, "execute");
    try {
      const r = await this.runToEnd(sql, requireParams(paramsArg));
      return { rowsAffected: r.numDmlAffectedRows !== undefined ? Number(r.numDmlAffectedRows) : null };
    } catch (err) {
      throw this.convert(err, { sql });
    }
  }

  async getSchema(tableArg: unknown): Promise<{ name: string; type: string; nullable: boolean }[]> {
    const table = parseBigQueryTable(tableArg, this.where.projectId, this.where.dataset);
    const fields = await this.describe(table);
    if (!fields) throw new TauError("TAU_E_CONNECTOR_UNKNOWN_OBJECT", `Table ${table.sql} does not exist.`, { table: String(tableArg) });
    return fields.map((f) => ({ name: f.name, type: f.type, nullable: f.mode !== "REQUIRED" }));
  }

  /** tables.get → the table's top-level fields, or null when it does not exist. */
  private async describe(table: BigQueryTable): Promise<BqField[] | null> {
    try {
      const [metadata] = await this.client.dataset(table.datasetId, { projectId: table.projectId }).table(table.tableId).getMetadata();
      return ((metadata as { schema?: { fields?: BqField[] } }).schema?.fields ?? []).map((f) => ({ name: f.name, type: f.type, mode: f.mode }));
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return null;
      throw this.convert(err, { table: table.sql });
    }
  }

  /** See bigquery-sql.ts for how each mode finishes. */
  loadFrom(source: RowSource, request: LoadRequest): Promise<number> {
    if (this.closed) return Promise.reject(new TauError("TAU_E_CONNECTOR_CLOSED"));
    return this.queue.run(() => this.load(source, request));
  }

  private async load(source: RowSource, request: LoadRequest): Promise<number> {
    const target = parseBigQueryTable(request.table, this.where.projectId, this.where.dataset);
    const stageId = stageName();
    const stage = bqTableSql(target.projectId, target.datasetId, stageId);
    const stageTable = this.client.dataset(target.datasetId, { projectId: target.projectId }).table(stageId);
    let sql = "";
    let inserted = 0;
    const run = async (statement: string): Promise<void> => {
      sql = statement;
      await this.runToEnd(statement);
    };
    try {
      return await runStagedLoad(source, request, {
        describeTarget: async () => {
          const fields = await this.describe(target);
          return fields ? fields.map((f): TargetColumn => ({ name: f.name, type: f.mode === "REPEATED" ? `ARRAY<${f.type}>` : f.type, family: f.mode === "REPEATED" ? "json" : bqFamily(f.type) })) : null;
        },
        typeFor: (kind) => ({ name: "", ...bqTypeFor(kind) }),
        // BigQuery column names are case-insensitive.
        columnKey: (name) => name.toLowerCase(),
        createStage: (columns) => run(bigquerySql.createTable(stage, columns)),
        addStageColumns: (columns) => run(bigquerySql.addColumns(stage, columns)),
        writeStage: async (columns, rows) => {
          sql = `insertAll into ${stage}`;
          let batch: { insertId: string; json: Row }[] = [];
          let bytes = 0;
          const flush = async (): Promise<void> => {
            if (batch.length === 0) return;
            await stageTable.insert(batch, { raw: true, partialRetries: 0 });
            batch = [];
            bytes = 0;
          };
          for (const r of rows) {
            const json: Row = {};
            columns.forEach((c, i) => {
              if (r[i] !== null) json[c.name] = bqInsertValue(r[i], c.family);
            });
            const size = JSON.stringify(json).length;
            if (batch.length >= INSERT_ROWS || (bytes + size > INSERT_BYTES && batch.length > 0)) await flush();
            batch.push({ insertId: `${stageId}_${inserted++}`, json });
            bytes += size;
          }
          await flush();
        },
        finish: async (plan) => {
          if (!plan.targetExists) return run(bigquerySql.createAsSelect(target.sql, stage, plan.columns, false));
          if (plan.mode === "replace") return run(bigquerySql.createAsSelect(target.sql, stage, plan.columns, true));
          if (plan.added.length > 0) await run(bigquerySql.addColumns(target.sql, plan.added));
          if (plan.mode === "upsert") return run(bigquerySql.merge(target.sql, stage, plan.columns, plan.mergeKey));
          return run(bigquerySql.insertSelect(target.sql, stage, plan.columns));
        },
        emptyTarget: () => run(bigquerySql.truncate(target.sql)),
        dropStage: () => this.runToEnd(bigquerySql.drop(stage)).then(() => undefined),
      });
    } catch (err) {
      throw this.convert(err, { sql, table: request.table });
    }
  }
}
