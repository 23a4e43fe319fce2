/**
 * `snowflake`, host side, with the official snowflake-sdk (its REST protocol: `/session/v1/login-request`,
 * `/queries/v1/query-request`). The SDK is imported at open time. The account host (or `accessUrl`) is
 * resolved and checked against the egress policy, and the SDK's HTTP agent (its `agentClass` option)
 * connects to that checked address; TLS still verifies the host name, but the SDK's OCSP revocation check
 * is not done through that agent. Large results that Snowflake serves as chunks from its cloud storage
 * (presigned URLs on other hosts) are fetched with a normal DNS lookup and are not policy-checked.
 *
 * Options: `{ account, username, password?, privateKey?, token?, warehouse?, database?, schema?, role?,
 * accessUrl?, loginTimeoutSec? }` — one of password (plain login), privateKey (PEM; key-pair / JWT auth) or
 * token (OAuth access token). Parameters are positional `?`. Results are streamed (`streamResult: true`,
 * `statement.streamRows()`), one batch at a time. Loads: see snowflake-sql.ts.
 *
 * Process-wide, the driver turns the SDK's own logging off (`configure({logLevel: "OFF"})`): errors reach
 * the pipeline as Tau codes instead.
 */
import http from "node:http";
import https from "node:https";
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { TauError } from "../../server/contract";
import { convertSnowflakeError } from "./snowflake-errors";
import {
  SNOWFLAKE_BIND_BYTES,
  SNOWFLAKE_BIND_VALUES,
  parseSnowflakeTable,
  sfBindValue,
  sfColumnKey,
  sfFamily,
  sfReadValue,
  sfTypeFor,
  snowflakeSql,
} from "./snowflake-sql";
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

export const SNOWFLAKE_KIND = "snowflake";
const LOAD_MODES = ["append", "replace", "upsert"] as const;
const OPTIONS = ["account", "username", "password", "privateKey", "token", "warehouse", "database", "schema", "role", "accessUrl", "loginTimeoutSec"] as const;

type SnowflakeModule = typeof import("snowflake-sdk");
type Connection = ReturnType<SnowflakeModule["createConnection"]>;
type Statement = Parameters<NonNullable<Parameters<Connection["execute"]>[0]["complete"]>>[1];

/** An agent factory for the SDK's `agentClass`: `host` connects to the checked `address`, other hosts resolve normally. */
function pinnedAgentFactory(host: string, address: string): (options: { protocol?: string }) => http.Agent {
  const family = address.includes(":") ? 6 : 4;
  const lookup = (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void): void => {
    if (hostname.toLowerCase() !== host.toLowerCase()) {
      dnsLookup(hostname, options as never, callback as never);
      return;
    }
    if (options && options.all) callback(null, [{ address, family } satisfies LookupAddress]);
    else callback(null, address, family);
  };
  return (options) => {
    const secure = options.protocol === "https:";
    const agent = secure ? new https.Agent({ keepAlive: true, lookup: lookup as never }) : new http.Agent({ keepAlive: true, lookup: lookup as never });
    (agent as unknown as { protocol: string }).protocol = secure ? "https:" : "http:";
    return agent;
  };
}

export class SnowflakeDriver implements ConnectorDriver {
  readonly kind = SNOWFLAKE_KIND;

  async open(options: Record<string, unknown>, ctx: ConnectorContext): Promise<SnowflakeConnector> {
    checkOptionKeys(this.kind, options, OPTIONS);
    const account = requiredString(this.kind, options, "account");
    const username = requiredString(this.kind, options, "username");
    const password = optionalString(this.kind, options, "password");
    const privateKey = optionalString(this.kind, options, "privateKey");
    const token = optionalString(this.kind, options, "token");
    if ([password, privateKey, token].filter((v) => v !== undefined).length !== 1) {
      throw argsInvalid("snowflake needs exactly one of password, privateKey or token.", { option: "password" });
    }
    const accessUrl = optionalString(this.kind, options, "accessUrl");
    let url: URL;
    try {
      url = new URL(accessUrl ?? `https://${account}.snowflakecomputing.com`);
    } catch {
      throw argsInvalid("snowflake's accessUrl must be an http(s) URL, or leave it out to use the account's host.", { option: "accessUrl" });
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") throw argsInvalid("snowflake's accessUrl must be an http(s) URL.", { option: "accessUrl" });
    const host = url.hostname;
    const port = urlPort(url);
    const address = await checkedAddress(ctx, this.kind, host, port);
    const loginTimeoutSec = optionalNumber(this.kind, options, "loginTimeoutSec", 1, 600) ?? 60;
    // The SDK keeps OCSP responses and tokens on disk, by default under ~/.cache/snowflake (created when the
    // module loads): keep Tau's runs out of the user's home folder. Only set when the user has not chosen.
    const cacheDir = join(tmpdir(), "tau-snowflake-cache");
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    process.env.SF_OCSP_RESPONSE_CACHE_DIR ??= cacheDir;
    const mod = await loadDriver(this.kind, "snowflake-sdk", () => import("snowflake-sdk"));
    const sdk = ((mod as unknown as { default?: SnowflakeModule }).default ?? mod) as SnowflakeModule;
    sdk.configure({ logLevel: "OFF" });
    const connection = sdk.createConnection({
      account,
      username,
      ...(password !== undefined ? { password } : {}),
      ...(privateKey !== undefined ? { authenticator: "SNOWFLAKE_JWT", privateKey } : {}),
      ...(token !== undefined ? { authenticator: "OAUTH", token } : {}),
      warehouse: optionalString(this.kind, options, "warehouse"),
      database: optionalString(this.kind, options, "database"),
      schema: optionalString(this.kind, options, "schema"),
      role: optionalString(this.kind, options, "role"),
      accessUrl: url.origin,
      application: "Tau",
      jsTreatIntegerAsBigInt: true,
      clientSessionKeepAlive: false,
      clientStoreTemporaryCredential: false,
      // The SDK caches tokens on disk; keep that out of the user's home folder.
      credentialCacheDir: cacheDir,
      agentClass: pinnedAgentFactory(host, address),
      // The SDK's defaults retry a failed login for minutes; one retry within the login timeout is enough.
      sfRetryMaxLoginRetries: 1,
      timeout: loginTimeoutSec * 1000,
    } as never);
    try {
      await new Promise<void>((resolve, reject) => {
        connection.connect((err) => (err ? reject(err) : resolve()));
      });
    } catch (err) {
      connection.destroy(() => undefined);
      throw convertSnowflakeError(err, { host, port });
    }
    // connect() can call back without an error and still leave the connection down (STACK.md).
    if (!connection.isUp()) {
      connection.destroy(() => undefined);
      throw new TauError("TAU_E_CONNECTOR_AUTH_FAILED", "Snowflake did not open a session (login failed).", { host, port });
    }
    return new SnowflakeConnector(connection, ctx, { host, port });
  }
}

export class SnowflakeConnector implements StreamingConnector, LoadingConnector {
  readonly kind = SNOWFLAKE_KIND;
  private closed = false;
  private readonly queue = new CallQueue();
  private readonly running = new Set<Statement>();

  constructor(
    private readonly connection: Connection,
    private readonly ctx: ConnectorContext,
    private readonly where: { host: string; port: number },
  ) {}

  call(method: string, args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new TauError("TAU_E_CONNECTOR_CLOSED"));
    return callSqlConnector(this, (fn) => this.queue.run(fn), LOAD_MODES, method, args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.running) s.cancel(() => undefined);
    await this.queue.idle().catch(() => undefined);
    await new Promise<void>((resolve) => this.connection.destroy(() => resolve()));
  }

  private convert(err: unknown, extra: { sql?: string; table?: string } = {}): TauError {
    return convertSnowflakeError(err, { ...extra, host: this.where.host, port: this.where.port });
  }

  /** Starts a statement with a streamed result; resolves once Snowflake answered (rows not read yet). */
  private start(sql: string, binds: readonly SqlScalar[] | readonly (string | null)[][]): Promise<Statement> {
    return new Promise<Statement>((resolve, reject) => {
      const statement = this.connection.execute({
        sqlText: sql,
        ...(binds.length > 0 ? { binds: binds as never } : {}),
        streamResult: true,
        complete: (err, stmt) => {
          this.running.delete(statement);
          if (err) reject(err);
          else resolve(stmt);
        },
      });
      this.running.add(statement);
    });
  }

  /** Runs a statement to completion, reading (and dropping) any rows. */
  private async run(sql: string, binds: readonly SqlScalar[] | readonly (string | null)[][] = []): Promise<{ stmt: Statement; rows: Row[] }> {
    const stmt = await this.start(sql, binds);
    const rows: Row[] = [];
    for await (const row of stmt.streamRows() as AsyncIterable<Row>) rows.push(row);
    return { stmt, rows };
  }

  async extract(sqlArg: unknown, paramsArg: unknown): Promise<unknown> {
    const sql = requireSql(sqlArg, "extract");
    const cursor = await this.openCursor(sql, requireParams(paramsArg), 10_000);
    return collectExtract(cursor, this.ctx, sql);
  }

  async openCursor(sql: string, params: unknown[], batchSize: number): Promise<RowCursor> {
    let stmt: Statement;
    let stream: Readable;
    try {
      stmt = await this.start(sql, params as SqlScalar[]);
      stream = stmt.streamRows();
    } catch (err) {
      throw this.convert(err, { sql });
    }
    const columns = (stmt.getColumns() ?? []).map((c) => ({ name: c.getName(), type: c.getType() }));
    const rows = (stream as unknown as AsyncIterable<Row>)[Symbol.asyncIterator]();
    let done = false;
    return {
      next: async (): Promise<Row[] | null> => {
        const batch: Row[] = [];
        try {
          while (!done && batch.length < batchSize) {
            const r = await rows.next();
            if (r.done) {
              done = true;
              break;
            }
            const out: Row = {};
            for (const c of columns) out[c.name] = sfReadValue(r.value[c.name], c.type);
            batch.push(out);
          }
        } catch (err) {
          done = true;
          stream.destroy();
          throw this.convert(err, { sql });
        }
        return batch.length > 0 ? batch : null;
      },
      close: async (): Promise<void> => {
        if (!done) {
          done = true;
          stream.destroy();
        }
      },
    };
  }

  async execute(sqlArg: unknown, paramsArg: unknown): Promise<{ rowsAffected: number | null }> {
    const sql = requireSql(sqlArg, "execute");
    try {
      const { stmt } = await this.run(sql, requireParams(paramsArg));
      const n = stmt.getNumUpdatedRows();
      // The SDK answers -1 for statements that are not DML.
      const count = n === undefined || n === null ? -1 : Number(n);
      return { rowsAffected: count >= 0 ? count : null };
    } catch (err) {
      throw this.convert(err, { sql });
    }
  }

  async getSchema(tableArg: unknown): Promise<{ name: string; type: string; nullable: boolean }[]> {
    const table = parseSnowflakeTable(tableArg);
    const sql = snowflakeSql.describe(table.sql);
    try {
      const { rows } = await this.run(sql);
      return rows.map((r) => ({ name: String(r.name), type: String(r.type), nullable: r["null?"] !== "N" }));
    } catch (err) {
      throw this.convert(err, { sql, table: String(tableArg) });
    }
  }

  /** See snowflake-sql.ts for how each mode finishes. */
  loadFrom(source: RowSource, request: LoadRequest): Promise<number> {
    if (this.closed) return Promise.reject(new TauError("TAU_E_CONNECTOR_CLOSED"));
    return this.queue.run(() => this.load(source, request));
  }

  private async load(source: RowSource, request: LoadRequest): Promise<number> {
    const target = parseSnowflakeTable(request.table);
    const stage = target.sibling(stageName().toUpperCase());
    let sql = "";
    const exec = async (statement: string, binds: readonly (string | null)[][] = []): Promise<void> => {
      sql = statement;
      await this.run(statement, binds);
    };
    try {
      return await runStagedLoad(source, request, {
        describeTarget: async () => {
          const describe = snowflakeSql.describe(target.sql);
          try {
            const { rows } = await this.run(describe);
            return rows.map((r): TargetColumn => ({ name: String(r.name), type: String(r.type), family: sfFamily(String(r.type)) }));
          } catch (err) {
            if (convertSnowflakeError(err).code === "TAU_E_CONNECTOR_UNKNOWN_OBJECT") return null;
            sql = describe;
            throw err;
          }
        },
        typeFor: (kind) => ({ name: "", ...sfTypeFor(kind) }),
        columnKey: sfColumnKey,
        createStage: (columns) => exec(snowflakeSql.createStage(stage, columns)),
        addStageColumns: async (columns) => {
          for (const c of columns) await exec(snowflakeSql.addStageColumn(stage, c));
        },
        writeStage: async (columns, rows) => {
          const insert = snowflakeSql.insertBound(stage, columns);
          const perRequest = Math.max(1, Math.floor(SNOWFLAKE_BIND_VALUES / Math.max(1, columns.length)));
          let batch: (string | null)[][] = [];
          let bytes = 0;
          for (const r of rows) {
            const values = columns.map((c, i) => sfBindValue(r[i], c.family));
            const size = values.reduce((n, v) => n + (v === null ? 4 : v.length + 3), 0);
            if (batch.length >= perRequest || (bytes + size > SNOWFLAKE_BIND_BYTES && batch.length > 0)) {
              await exec(insert, batch);
              batch = [];
              bytes = 0;
            }
            batch.push(values);
            bytes += size;
          }
          if (batch.length > 0) await exec(insert, batch);
        },
        finish: async (plan) => {
          if (!plan.targetExists) return exec(snowflakeSql.createAsSelect(target.sql, stage, plan.columns, false));
          if (plan.mode === "replace") {
            const fresh = target.sibling(stageName().toUpperCase());
            try {
              await exec(snowflakeSql.createAsSelect(fresh, stage, plan.columns, true));
              await exec(snowflakeSql.swap(target.sql, fresh));
            } finally {
              await this.run(snowflakeSql.drop(fresh)).catch(() => undefined);
            }
            return;
          }
          for (const c of plan.added) await exec(snowflakeSql.addColumn(target.sql, c));
          if (plan.mode === "upsert") return exec(snowflakeSql.merge(target.sql, stage, plan.columns, plan.mergeKey));
          return exec(snowflakeSql.insertSelect(target.sql, stage, plan.columns));
        },
        emptyTarget: () => exec(snowflakeSql.truncate(target.sql)),
        dropStage: () => this.run(snowflakeSql.drop(stage)).then(() => undefined),
      });
    } catch (err) {
      throw this.convert(err, { sql, table: request.table });
    }
  }
}
