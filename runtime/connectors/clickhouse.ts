/**
 * `clickhouse`, host side, with the official @clickhouse/client over ClickHouse's HTTP interface. The
 * client is imported at open time (the daemon and CLI never load it). The URL's host is resolved and checked
 * against the tenant's egress policy, and the client's HTTP agent connects to that checked address (TLS
 * still verifies the URL's host name). SQL is built in clickhouse-sql.ts; errors are converted in
 * clickhouse-errors.ts.
 *
 * Options: `{ url, username?, password?, database?, requestTimeoutMs?, settings? }`. Query parameters are
 * ClickHouse server-side parameters: `{p1:Int64}`, `{p2:String}`, … fill from `params[0]`, `params[1]`, ….
 * Results are read as `JSONCompactEachRowWithNamesAndTypes` (64-bit integers → numbers when safe, else
 * strings; timestamps ISO-8601).
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import { TauError } from "../../server/contract";
import { convertClickHouseError } from "./clickhouse-errors";
import {
  CLICKHOUSE_SETTINGS,
  chFamily,
  chInsertValue,
  chQueryParams,
  chReadValue,
  chTableSql,
  chTypeFor,
  clickhouseSql,
  parseClickHouseTable,
  type ClickHouseTable,
} from "./clickhouse-sql";
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
} from "./warehouse-common";
import { callSqlConnector } from "./sql-call";
import { runStagedLoad, type TargetColumn } from "./warehouse-load";

export const CLICKHOUSE_KIND = "clickhouse";
const LOAD_MODES = ["append", "replace", "upsert"] as const;
const OPTIONS = ["url", "username", "password", "database", "requestTimeoutMs", "settings"] as const;

type ClickHouseModule = typeof import("@clickhouse/client");
type ClickHouseClient = ReturnType<ClickHouseModule["createClient"]>;
type ClickHouseSettings = NonNullable<Parameters<ClickHouseClient["command"]>[0]["clickhouse_settings"]>;

/** A lookup that answers every name with the address the egress check approved. */
export function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address) === 6 ? 6 : 4;
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options && options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

export class ClickHouseDriver implements ConnectorDriver {
  readonly kind = CLICKHOUSE_KIND;

  async open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<ClickHouseConnector> {
    checkOptionKeys(this.kind, options, OPTIONS);
    const urlText = requiredString(this.kind, options, "url");
    let url: URL;
    try {
      url = new URL(urlText);
    } catch {
      throw argsInvalid("clickhouse's url must be an http(s) URL, e.g. https://host:8443.", { option: "url" });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw argsInvalid("clickhouse's url must start with http:// or https://.", { option: "url" });
    const settings = options.settings ?? {};
    if (typeof settings !== "object" || settings === null || Array.isArray(settings) ||
      !Object.values(settings).every((v) => typeof v === "string" || typeof v === "number" || typeof v === "boolean")) {
      throw argsInvalid("clickhouse's settings must be an object of scalar ClickHouse settings, e.g. { max_threads: 4 }.", { option: "settings" });
    }
    const timeout = optionalNumber(this.kind, options, "requestTimeoutMs", 100, 3_600_000) ?? 300_000;
    const host = url.hostname;
    const port = urlPort(url);
    const address = await checkedAddress(ctx, this.kind, host, port);
    const mod = await loadDriver(this.kind, "@clickhouse/client", () => import("@clickhouse/client"));
    const agentOptions = { keepAlive: true, maxSockets: 4, lookup: pinnedLookup(address) };
    const agent = url.protocol === "https:" ? new https.Agent({ ...agentOptions, servername: host }) : new http.Agent(agentOptions);
    const client = mod.createClient({
      url: url.origin + url.pathname,
      username: optionalString(this.kind, options, "username") ?? "default",
      password: optionalString(this.kind, options, "password") ?? "",
      database: optionalString(this.kind, options, "database"),
      request_timeout: timeout,
      http_agent: agent,
      // The driver converts and reports errors itself; the client's own logging would only reach stderr.
      log: { level: mod.ClickHouseLogLevel.OFF },
      clickhouse_settings: { ...CLICKHOUSE_SETTINGS, ...(settings as Record<string, string | number | boolean>) } as ClickHouseSettings,
    });
    const connector = new ClickHouseConnector(client, ctx, { host, port, database: optionalString(this.kind, options, "database") ?? null });
    try {
      // Surfaces bad credentials and unreachable servers at open, not at the first query.
      await client.command({ query: "SELECT 1" });
    } catch (err) {
      await client.close().catch(() => undefined);
      throw convertClickHouseError(err, { host, port });
    }
    return connector;
  }
}

export class ClickHouseConnector implements StreamingConnector, LoadingConnector {
  readonly kind = CLICKHOUSE_KIND;
  private closed = false;
  private readonly queue = new CallQueue();
  private readonly aborts = new Set<AbortController>();
  /** Aborts statements and inserts in flight when the handle closes (cursors have their own controllers). */
  private readonly shutdown = new AbortController();

  constructor(
    private readonly client: ClickHouseClient,
    private readonly ctx: ConnectorContext,
    private readonly where: { host: string; port: number; database: string | null },
  ) {}

  call(method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new TauError("TAU_E_CONNECTOR_CLOSED"));
    return callSqlConnector(this, (fn) => this.queue.run(fn), LOAD_MODES, method, args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.shutdown.abort();
    for (const a of this.aborts) a.abort();
    await this.queue.idle().catch(() => undefined);
    await this.client.close().catch(() => undefined);
  }

  private convert(err: unknown, extra: { sql?: string; table?: string } = {}): TauError {
    return convertClickHouseError(err, { ...extra, host: this.where.host, port: this.where.port });
  }

  async extract(sqlArg: unknown, paramsArg: unknown): Promise<unknown> {
    const sql = requireSql(sqlArg, "extract");
    const cursor = await this.openCursor(sql, requireParams(paramsArg), 10_000);
    return collectExtract(cursor, this.ctx, sql);
  }

  /** Streams a result as JSONCompactEachRowWithNamesAndTypes, `batchSize` rows at a time. */
  async openCursor(sql: string, params: unknown[], batchSize: number): Promise<RowCursor> {
    const abort = new AbortController();
    this.aborts.add(abort);
    let stream: AsyncIterator<{ json<T>(): T }[]>;
    let destroy: () => void;
    try {
      const rs = await this.client.query({
        query: sql,
        format: "JSONCompactEachRowWithNamesAndTypes",
        query_params: chQueryParams(params),
        abort_signal: abort.signal,
      });
      const readable = rs.stream();
      stream = (readable as unknown as AsyncIterable<{ json<T>(): T }[]>)[Symbol.asyncIterator]();
      destroy = () => readable.destroy();
    } catch (err) {
      this.aborts.delete(abort);
      throw this.convert(err, { sql });
    }
    let names: string[] | null = null;
    let types: string[] | null = null;
    let pending: unknown[][] = [];
    let ended = false;
    const finish = (): void => {
      ended = true;
      this.aborts.delete(abort);
    };
    const take = (): Row[] => {
      const out = pending.splice(0, batchSize).map((values) => {
        const row: Row = {};
        names!.forEach((n, i) => {
          row[n] = chReadValue(values[i], types![i]);
        });
        return row;
      });
      return out;
    };
    return {
      next: async (): Promise<Row[] | null> => {
        try {
          while (!ended && pending.length < batchSize) {
            const chunk = await stream.next();
            if (chunk.done) {
              finish();
              break;
            }
            for (const r of chunk.value) {
              const values = r.json<unknown[]>();
              if (names === null) names = values.map(String);
              else if (types === null) types = values.map(String);
              else pending.push(values);
            }
          }
        } catch (err) {
          finish();
          destroy();
          throw this.convert(err, { sql });
        }
        if (pending.length === 0) return null;
        return take();
      },
      close: async (): Promise<void> => {
        if (!ended) {
          finish();
          abort.abort();
          destroy();
        }
        pending = [];
      },
    };
  }

  async execute(sqlArg: unknown, paramsArg: unknown): Promise<{ rowsAffected: number | null }> {
    const sql = requireSql(sqlArg, "execute");
    try {
      const r = await this.client.command({ query: sql, query_params: chQueryParams(requireParams(paramsArg)), abort_signal: this.shutdown.signal });
      const written = r.summary?.written_rows;
      return { rowsAffected: written !== undefined ? Number(written) : null };
    } catch (err) {
      throw this.convert(err, { sql });
    }
  }

  async getSchema(tableArg: unknown): Promise<{ name: string; type: string; nullable: boolean }[]> {
    const table = parseClickHouseTable(tableArg);
    const columns = await this.describe(table);
    if (!columns) throw new TauError("TAU_E_CONNECTOR_UNKNOWN_OBJECT", `Table ${table.sql} does not exist.`, { table: String(tableArg) });
    return columns.map((c) => ({ name: c.name, type: c.type, nullable: /^Nullable\(/.test(c.type) }));
  }

  private async describe(table: ClickHouseTable): Promise<TargetColumn[] | null> {
    const sql = clickhouseSql.describe(table.sql);
    try {
      const rs = await this.client.query({ query: sql, format: "JSONEachRow", abort_signal: this.shutdown.signal });
      const rows = await rs.json<{ name: string; type: string }>();
      return rows.map((r) => ({ name: r.name, type: r.type, family: chFamily(r.type) }));
    } catch (err) {
      if ((err as { type?: unknown }).type === "UNKNOWN_TABLE") return null;
      throw this.convert(err, { sql, table: table.sql });
    }
  }

  private async command(sql: string, settings?: Record<string, unknown>): Promise<void> {
    await this.client.command({ query: sql, clickhouse_settings: settings as ClickHouseSettings | undefined, abort_signal: this.shutdown.signal });
  }

  /** See clickhouse-sql.ts for how each mode finishes. */
  loadFrom(source: RowSource, request: LoadRequest): Promise<number> {
    if (this.closed) return Promise.reject(new TauError("TAU_E_CONNECTOR_CLOSED"));
    return this.queue.run(() => this.load(source, request));
  }

  private async load(source: RowSource, request: LoadRequest): Promise<number> {
    const target = parseClickHouseTable(request.table);
    const stage = chTableSql(target.database, stageName());
    let sql = "";
    let existingCount = 0;
    const run = async (statement: string, settings?: Record<string, unknown>): Promise<void> => {
      sql = statement;
      await this.command(statement, settings);
    };
    try {
      return await runStagedLoad(source, request, {
        describeTarget: async () => {
          const columns = await this.describe(target);
          existingCount = columns?.length ?? 0;
          return columns;
        },
        typeFor: (kind) => ({ name: "", ...chTypeFor(kind) }),
        columnKey: (name) => name,
        createStage: async (columns, exists) => {
          if (exists) {
            await run(clickhouseSql.createTableLike(stage, target.sql));
            const extra = columns.slice(existingCount);
            if (extra.length > 0) await run(clickhouseSql.addColumns(stage, extra));
          } else {
            await run(clickhouseSql.createTable(stage, columns));
          }
        },
        addStageColumns: (columns) => run(clickhouseSql.addColumns(stage, columns)),
        writeStage: async (columns, rows) => {
          sql = `INSERT INTO ${stage} FORMAT JSONEachRow (${rows.length} rows)`;
          const values = rows.map((r) => {
            const o: Row = {};
            columns.forEach((c, i) => {
              o[c.name] = chInsertValue(r[i], c.family);
            });
            return o;
          });
          await this.client.insert({ table: stage, columns: clickhouseSql.insertColumns(columns) as [string, ...string[]], values, format: "JSONEachRow", abort_signal: this.shutdown.signal });
        },
        finish: async (plan) => {
          if (!plan.targetExists) {
            await run(clickhouseSql.rename(stage, target.sql));
            return;
          }
          if (plan.mode === "replace") {
            await run(clickhouseSql.exchange(target.sql, stage));
            return;
          }
          if (plan.added.length > 0) await run(clickhouseSql.addColumns(target.sql, plan.added));
          if (plan.mode === "upsert") await run(clickhouseSql.deleteKeys(target.sql, stage, plan.mergeKey), { mutations_sync: "2" });
          await run(clickhouseSql.insertSelect(target.sql, stage, plan.columns));
        },
        emptyTarget: () => run(clickhouseSql.truncate(target.sql)),
        dropStage: () => this.command(clickhouseSql.drop(stage)),
      });
    } catch (err) {
      throw this.convert(err, { sql, table: request.table });
    }
  }
}
