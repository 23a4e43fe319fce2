/**
 * A loopback server speaking the Snowflake REST protocol that snowflake-sdk uses, over http (the SDK's
 * `accessUrl`):
 *   POST /session/v1/login-request       body {data:{ACCOUNT_NAME, LOGIN_NAME, PASSWORD, …}} → session token
 *   POST /queries/v1/query-request       `Authorization: Snowflake Token="…"`, body {sqlText, bindings}
 *                                        → {data:{rowtype, rowset, total, returned, statementTypeId,
 *                                           queryResultFormat:"json", version}} (the whole result inline)
 *   POST /session?delete=true            logout; anything else (telemetry, heartbeat) → {success:true}
 * Failures are `{success:false, code:"002003", message:"SQL compilation error: …", data:{errorCode, sqlState}}`.
 * Values travel in Snowflake's JSON result encoding: FIXED/REAL as text, BOOLEAN "1"/"0", DATE as days since
 * the epoch, TIMESTAMP_NTZ "seconds.nanos", TIMESTAMP_TZ "seconds.nanos offset+1440", VARIANT as JSON text.
 * Result chunks on cloud storage (large results) are not served: every result is inline.
 * Storage and SQL semantics come from DuckDB (duck-engine.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import type { DuckDBValue } from "@duckdb/node-api";
import { DuckEngine, DuckEngineError, duckName, nameParts, splitTopLevel, type DeclaredColumn, type QueryResult } from "./duck-engine";

class SfError extends Error {
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeSnowflakeOptions {
  user?: string;
  password?: string;
  schemas?: string[];
  denied?: string[];
}

export interface RecordedSfRequest {
  path: string;
  query: Record<string, string>;
  body: { sqlText?: string; bindings?: Record<string, { type: string; value: unknown }>; data?: Record<string, unknown> } | null;
}

const TYPE_IDS = { select: 0x1000, insert: 0x3100, update: 0x3200, delete: 0x3300, merge: 0x3400, ddl: 0x6000 };

export class FakeSnowflake {
  readonly requests: RecordedSfRequest[] = [];
  /** Session token → the session parameters the client sent at login (echoed with every result, as Snowflake does). */
  private readonly sessions = new Map<string, { name: string; value: unknown }[]>();
  private nextQuery = 1;

  private constructor(
    readonly engine: DuckEngine,
    private readonly server: Server,
    private readonly o: FakeSnowflakeOptions,
  ) {}

  static async start(o: FakeSnowflakeOptions = {}): Promise<FakeSnowflake> {
    const engine = await DuckEngine.create(o.schemas ?? []);
    await engine.connection.run("CREATE MACRO parse_json(x) AS CAST(x AS JSON)");
    let fake: FakeSnowflake | null = null;
    const server = createServer((req, res) => void fake!.handle(req, res));
    fake = new FakeSnowflake(engine, server, o);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.engine.close();
  }

  /** SQL texts the driver sent, in order. */
  get statements(): string[] {
    return this.requests.filter((r) => r.path === "/queries/v1/query-request").map((r) => r.body?.sqlText ?? "");
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let raw = Buffer.concat(chunks);
    if (req.headers["content-encoding"] === "gzip" && raw.length > 0) raw = gunzipSync(raw);
    let body: RecordedSfRequest["body"] = null;
    try {
      body = raw.length > 0 ? (JSON.parse(raw.toString("utf8")) as RecordedSfRequest["body"]) : null;
    } catch {
      body = null;
    }
    this.requests.push({ path: url.pathname, query: Object.fromEntries(url.searchParams), body });
    const send = (value: unknown): void => {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(value));
    };
    const fail = (e: SfError, extra: Record<string, unknown> = {}): void =>
      send({ data: { internalError: false, errorCode: e.code, age: 0, sqlState: e.sqlState, queryId: `q-${this.nextQuery++}`, line: -1, pos: -1, type: "COMPILATION", ...extra }, code: e.code, message: e.message, success: false, headers: null });
    try {
      if (url.pathname === "/session/v1/login-request") {
        const d = body?.data ?? {};
        if (d.LOGIN_NAME !== (this.o.user ?? "tau") || d.PASSWORD !== (this.o.password ?? "pw")) {
          return fail(new SfError("390100", "08004", "Incorrect username or password was specified."), { nextAction: "RETRY_LOGIN", authnMethod: "USERNAME_PASSWORD" });
        }
        const token = `session-${this.sessions.size + 1}`;
        const params = (d.SESSION_PARAMETERS ?? {}) as Record<string, unknown>;
        this.sessions.set(token, [{ name: "TIMEZONE", value: "UTC" }, ...Object.entries(params).map(([name, value]) => ({ name, value }))]);
        return send({
          data: {
            masterToken: `master-${token}`,
            token,
            validityInSeconds: 3600,
            masterValidityInSeconds: 14400,
            displayUserName: d.LOGIN_NAME,
            serverVersion: "9.0.0",
            firstLogin: false,
            remMeToken: null,
            remMeValidityInSeconds: 0,
            healthCheckInterval: 45,
            newClientForUpgrade: null,
            sessionId: this.sessions.size,
            parameters: [{ name: "TIMEZONE", value: "UTC" }],
            sessionInfo: { databaseName: url.searchParams.get("databaseName"), schemaName: url.searchParams.get("schemaName"), warehouseName: url.searchParams.get("warehouse"), roleName: "PUBLIC" },
            idToken: null,
            idTokenValidityInSeconds: 0,
            responseData: null,
            mfaToken: null,
            mfaTokenValidityInSeconds: 0,
          },
          code: null,
          message: null,
          success: true,
        });
      }
      if (url.pathname === "/queries/v1/query-request") {
        const auth = /Snowflake Token="([^"]+)"/.exec(req.headers.authorization ?? "");
        if (!auth || !this.sessions.has(auth[1])) return fail(new SfError("390104", "08001", "User must login again to access the service."));
        return send({ data: await this.query(body?.sqlText ?? "", body?.bindings, this.sessions.get(auth[1])!), code: null, message: null, success: true });
      }
      if (url.pathname === "/session" && url.searchParams.get("delete") === "true") {
        const auth = /Snowflake Token="([^"]+)"/.exec(req.headers.authorization ?? "");
        if (auth) this.sessions.delete(auth[1]);
        return send({ data: null, code: null, message: null, success: true });
      }
      return send({ data: {}, code: null, message: null, success: true });
    } catch (err) {
      const e = err instanceof SfError ? err : err instanceof DuckEngineError ? fromDuck(err) : new SfError("000603", "XX000", String(err));
      return fail(e);
    }
  }

  private async query(sqlText: string, bindings: Record<string, { type: string; value: unknown }> | undefined, parameters: { name: string; value: unknown }[]): Promise<unknown> {
    const q = sqlText.trim().replace(/;$/, "");
    const denied = (this.o.denied ?? []).find((t) => new RegExp(`\\b${t}\\b`, "i").test(q));
    if (denied) throw new SfError("003001", "42501", `SQL access control error:\nInsufficient privileges to operate on table '${denied.toUpperCase()}'`);
    const binds = Object.keys(bindings ?? {})
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => bindings![k]);
    const arrayRows = binds.length > 0 && Array.isArray(binds[0].value) ? (binds[0].value as unknown[]).length : null;
    const queryId = `01b-${this.nextQuery++}`;
    const finish = (typeId: number, r: QueryResult, declared?: (string | undefined)[], fold = true): unknown => {
      // Unquoted names come back upper case from Snowflake; DESCRIBE's own columns are lower case.
      const rowtype = r.names.map((n, i) => rowType(fold && /^[a-z_][a-z0-9_$]*$/.test(n) ? n.toUpperCase() : n, r.duckTypes[i], declared?.[i]));
      return {
        parameters,
        rowtype,
        rowset: r.rows.map((row) => row.map((v, i) => encode(v, rowtype[i].type))),
        total: r.rows.length,
        returned: r.rows.length,
        queryId,
        databaseProvider: null,
        finalDatabaseName: "DB",
        finalSchemaName: "PUBLIC",
        finalWarehouseName: "WH",
        finalRoleName: "PUBLIC",
        numberOfBinds: binds.length,
        arrayBindSupported: false,
        statementTypeId: typeId,
        version: 1,
        sendResultTime: Date.now(),
        queryResultFormat: "json",
      };
    };
    const ddl = (status: string): unknown => finish(TYPE_IDS.ddl, { names: ["status"], duckTypes: ["VARCHAR"], rows: [[status]], rowsChanged: 0 });
    const dml = (typeId: number, label: string, n: number): unknown =>
      finish(typeId, { names: [label], duckTypes: ["BIGINT"], rows: [[n]], rowsChanged: n });
    let m: RegExpExecArray | null;
    if ((m = /^DESCRIBE\s+TABLE\s+(.+)$/is.exec(q))) {
      const [s, t] = this.resolve(m[1]);
      if (!(await this.engine.tableExists(s, t))) throw new SfError("002003", "02000", `SQL compilation error:\nTable '${t.toUpperCase()}' does not exist or not authorized.`);
      const cols = this.engine.catalog.get(DuckEngine.key(s, t)) ?? [];
      return finish(TYPE_IDS.select, {
        names: ["name", "type", "kind", "null?", "default", "primary key", "unique key"],
        duckTypes: ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"],
        rows: cols.map((c) => [c.name, c.type, "COLUMN", "Y", null, "N", "N"]),
        rowsChanged: 0,
      }, undefined, false);
    }
    if ((m = /^CREATE\s+(?:TEMPORARY\s+)?TABLE\s+(\S+)\s*\((.*)\)$/is.exec(q))) {
      const [s, t] = this.resolve(m[1]);
      const cols = splitTopLevel(m[2]).map(parseColumnDef);
      await this.engine.run(`CREATE TABLE ${duckName([s, t])} (${cols.map((c) => `${duckName([c.name])} ${duckTypeOfSf(c.type)}`).join(", ")})`);
      this.engine.catalog.set(DuckEngine.key(s, t), cols.map((c) => ({ name: c.name, type: canonicalType(c.type) })));
      return ddl(`Table ${t} successfully created.`);
    }
    if ((m = /^CREATE\s+(OR\s+REPLACE\s+)?TABLE\s+(\S+)\s+AS\s+(SELECT\s.*)$/is.exec(q))) {
      const [s, t] = this.resolve(m[2]);
      await this.engine.run(`CREATE ${m[1] ? "OR REPLACE " : ""}TABLE ${duckName([s, t])} AS ${this.translate(m[3])}`);
      const from = /\bFROM\s+(\S+)\s*$/i.exec(m[3]);
      const source = from ? this.engine.catalog.get(this.keyOf(from[1])) ?? [] : [];
      const parsed = new Set([...m[3].matchAll(/PARSE_JSON\(("?)([^")]+)\1\)/gi)].map((x) => x[2]));
      const shape = await this.engine.run(`SELECT * FROM ${duckName([s, t])} LIMIT 0`);
      this.engine.catalog.set(
        DuckEngine.key(s, t),
        shape.names.map((n, i) => ({ name: n, type: parsed.has(n) ? "VARIANT" : source.find((c) => c.name === n)?.type ?? sfTypeOfDuck(shape.duckTypes[i]) })),
      );
      return ddl(`Table ${t} successfully created.`);
    }
    if ((m = /^ALTER\s+TABLE\s+(\S+)\s+ADD\s+COLUMN\s+(?:IF\s+NOT\s+EXISTS\s+)?(.*)$/is.exec(q))) {
      const [s, t] = this.resolve(m[1]);
      const cols = this.engine.catalog.get(DuckEngine.key(s, t)) ?? [];
      const def = parseColumnDef(m[2]);
      if (!cols.some((c) => c.name === def.name)) {
        await this.engine.run(`ALTER TABLE ${duckName([s, t])} ADD COLUMN ${duckName([def.name])} ${duckTypeOfSf(def.type)}`);
        cols.push({ name: def.name, type: canonicalType(def.type) });
        this.engine.catalog.set(DuckEngine.key(s, t), cols);
      }
      return ddl("Statement executed successfully.");
    }
    if ((m = /^ALTER\s+TABLE\s+(\S+)\s+SWAP\s+WITH\s+(\S+)$/is.exec(q))) {
      const a = this.resolve(m[1]);
      const b = this.resolve(m[2]);
      const tmp = `__swap_${Date.now()}`;
      await this.engine.run(`ALTER TABLE ${duckName(a)} RENAME TO ${duckName([tmp])}`);
      await this.engine.run(`ALTER TABLE ${duckName(b)} RENAME TO ${duckName([a[1]])}`);
      await this.engine.run(`ALTER TABLE ${duckName([a[0], tmp])} RENAME TO ${duckName([b[1]])}`);
      const ka = DuckEngine.key(a[0], a[1]);
      const kb = DuckEngine.key(b[0], b[1]);
      const ca = this.engine.catalog.get(ka) ?? [];
      this.engine.catalog.set(ka, this.engine.catalog.get(kb) ?? []);
      this.engine.catalog.set(kb, ca);
      return ddl("Statement executed successfully.");
    }
    if ((m = /^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?(\S+)$/is.exec(q))) {
      const a = this.resolve(m[2]);
      await this.engine.run(`DROP TABLE ${m[1] ?? ""} ${duckName(a)}`);
      this.engine.catalog.delete(DuckEngine.key(a[0], a[1]));
      return ddl(`${a[1]} successfully dropped.`);
    }
    if ((m = /^TRUNCATE\s+TABLE\s+(\S+)$/is.exec(q))) {
      await this.engine.run(`DELETE FROM ${duckName(this.resolve(m[1]))}`);
      return ddl("Statement executed successfully.");
    }
    if (/^SELECT\s+SYSTEM\$WAIT/i.test(q)) throw new SfError("000630", "57014", "Statement reached its statement or warehouse timeout of 1 second(s) and was canceled.");
    const sql = this.translate(q);
    if (arrayRows !== null) {
      // Array binding: one INSERT … VALUES (?, …) executed once per bound row, as Snowflake does.
      const values: DuckDBValue[] = [];
      for (let row = 0; row < arrayRows; row++) for (const b of binds) values.push((b.value as (string | null)[])[row]);
      const tuple = /VALUES\s*(\(.*\))\s*$/is.exec(sql);
      if (!tuple) throw new SfError("001003", "42000", "SQL compilation error:\narray binds need INSERT … VALUES (…)");
      const all = sql.slice(0, tuple.index) + "VALUES " + Array.from({ length: arrayRows }, () => tuple[1]).join(", ");
      const r = await this.engine.run(all, values);
      return dml(TYPE_IDS.insert, "number of rows inserted", r.rowsChanged);
    }
    const params = binds.map((b) => decodeBind(b.type, b.value));
    const r = await this.engine.run(sql, params.length > 0 ? params : undefined);
    if (/^INSERT\b/i.test(q)) return dml(TYPE_IDS.insert, "number of rows inserted", r.rowsChanged);
    if (/^MERGE\b/i.test(q)) return dml(TYPE_IDS.merge, "number of rows inserted", r.rowsChanged);
    if (/^UPDATE\b/i.test(q)) return dml(TYPE_IDS.update, "number of rows updated", r.rowsChanged);
    if (/^DELETE\b/i.test(q)) return dml(TYPE_IDS.delete, "number of rows deleted", r.rowsChanged);
    const from = /\bFROM\s+(\S+)/i.exec(q);
    const declared = from ? this.engine.catalog.get(this.keyOf(from[1])) : undefined;
    return finish(TYPE_IDS.select, r, declared ? r.names.map((n) => declared.find((c) => c.name.toLowerCase() === n.toLowerCase())?.type) : undefined);
  }

  /** Bare parts fold to upper case (Snowflake), quoted keep case; `db.schema.t` → DuckDB [schema, t]. */
  private resolve(text: string): [string, string] {
    const parts = foldParts(text);
    if (parts.length === 1) return ["main", parts[0]];
    return [parts[parts.length - 2], parts[parts.length - 1]];
  }

  private keyOf(text: string): string {
    const [s, t] = this.resolve(text);
    return DuckEngine.key(s, t);
  }

  private translate(sql: string): string {
    // Positional `?` stays (DuckDB takes it); names are case-insensitive in both.
    return sql;
  }
}

function foldParts(text: string): string[] {
  const quoted = [...text.matchAll(/"((?:[^"]|"")*)"|([^."]+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2].toUpperCase()));
  return quoted.length > 0 ? quoted : nameParts(text);
}

function parseColumnDef(def: string): DeclaredColumn {
  const m = /^("(?:[^"]|"")*"|\S+)\s+(.+)$/s.exec(def.trim());
  if (!m) throw new SfError("001003", "42000", `SQL compilation error:\nsyntax error in column definition ${def}`);
  const name = m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1].toUpperCase();
  return { name, type: m[2].trim() };
}

/** The type name DESCRIBE TABLE reports for a declared type. */
function canonicalType(type: string): string {
  const t = type.toUpperCase();
  if (t === "VARCHAR" || t === "STRING" || t === "TEXT") return "VARCHAR(16777216)";
  if (t === "TIMESTAMP_TZ") return "TIMESTAMP_TZ(9)";
  if (t === "TIMESTAMP_NTZ") return "TIMESTAMP_NTZ(9)";
  if (t === "INT" || t === "INTEGER" || t === "NUMBER") return "NUMBER(38,0)";
  return t;
}

function duckTypeOfSf(type: string): string {
  const t = type.toUpperCase();
  const num = /^NUMBER\((\d+),\s*(\d+)\)$/.exec(t);
  if (num) return num[2] === "0" ? "BIGINT" : `DECIMAL(${num[1]}, ${num[2]})`;
  if (/^(NUMBER|INT|INTEGER|BIGINT)$/.test(t)) return "BIGINT";
  if (/^(FLOAT|DOUBLE|REAL)/.test(t)) return "DOUBLE";
  if (t === "BOOLEAN") return "BOOLEAN";
  if (t === "DATE") return "DATE";
  if (/^TIMESTAMP_(TZ|LTZ)/.test(t)) return "TIMESTAMPTZ";
  if (/^TIMESTAMP/.test(t)) return "TIMESTAMP";
  if (/^(VARIANT|OBJECT|ARRAY)/.test(t)) return "JSON";
  return "VARCHAR";
}

function sfTypeOfDuck(type: string): string {
  if (/^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT)$/.test(type)) return "NUMBER(38,0)";
  if (type === "DOUBLE" || type === "FLOAT") return "FLOAT";
  if (type.startsWith("DECIMAL")) return type.replace("DECIMAL", "NUMBER").replace(" ", "");
  if (type === "BOOLEAN") return "BOOLEAN";
  if (type === "DATE") return "DATE";
  if (type === "TIMESTAMP WITH TIME ZONE" || type === "TIMESTAMPTZ") return "TIMESTAMP_TZ(9)";
  if (type.startsWith("TIMESTAMP")) return "TIMESTAMP_NTZ(9)";
  if (type === "JSON") return "VARIANT";
  return "VARCHAR(16777216)";
}

function rowType(name: string, duckType: string, declared: string | undefined): { name: string; type: string; scale: number; precision: number; nullable: boolean; length: number | null; byteLength: number | null; database: string; schema: string; table: string; collation: null } {
  const sf = (declared ?? sfTypeOfDuck(duckType)).toUpperCase();
  let type = "text";
  let scale = 0;
  let precision = 0;
  const num = /^NUMBER\((\d+),(\d+)\)$/.exec(sf.replace(/\s/g, ""));
  if (num) {
    type = "fixed";
    precision = Number(num[1]);
    scale = Number(num[2]);
  } else if (sf === "FLOAT") type = "real";
  else if (sf === "BOOLEAN") type = "boolean";
  else if (sf === "DATE") type = "date";
  else if (sf.startsWith("TIMESTAMP_TZ")) {
    type = "timestamp_tz";
    scale = 9;
  } else if (sf.startsWith("TIMESTAMP")) {
    type = "timestamp_ntz";
    scale = 9;
  } else if (sf === "VARIANT") type = "variant";
  return { name, type, scale, precision, nullable: true, length: type === "text" ? 16777216 : null, byteLength: type === "text" ? 16777216 : null, database: "DB", schema: "PUBLIC", table: "", collation: null };
}

/** A value in Snowflake's JSON result encoding. */
function encode(v: unknown, type: string): string | null {
  if (v === null || v === undefined) return null;
  switch (type) {
    case "boolean":
      return v === true ? "1" : "0";
    case "date":
      return String(Math.round(Date.parse(`${String(v)}T00:00:00Z`) / 86_400_000));
    case "timestamp_ntz":
    case "timestamp_tz": {
      const text = String(v);
      const ms = Date.parse(text.endsWith("Z") ? text : `${text}Z`);
      const sub = /\.(\d+)Z?$/.exec(text)?.[1] ?? "";
      const secs = Math.floor(ms / 1000);
      const nanos = sub.padEnd(9, "0").slice(0, 9);
      return type === "timestamp_tz" ? `${secs}.${nanos} 1440` : `${secs}.${nanos}`;
    }
    case "variant":
      return typeof v === "string" ? v : JSON.stringify(v);
    default:
      return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
}

function decodeBind(type: string, value: unknown): DuckDBValue {
  if (value === null || value === undefined) return null;
  if (type === "FIXED" || type === "REAL") return Number(value);
  if (type === "BOOLEAN") return value === true || value === "true";
  return String(value);
}

function fromDuck(err: DuckEngineError): SfError {
  switch (err.kind) {
    case "syntax":
      return new SfError("001003", "42000", `SQL compilation error:\nsyntax error line 1 at position 0 unexpected '${err.message.split("\n")[0].slice(0, 60)}'.`);
    case "unknown_table": {
      const name = /Table with name (\S+) does not exist/.exec(err.message)?.[1] ?? "?";
      return new SfError("002003", "42S02", `SQL compilation error:\nObject '${name.toUpperCase()}' does not exist or not authorized.`);
    }
    case "unknown_column": {
      const name = /column "?(\w+)"? not found|Referenced column "?(\w+)"?/i.exec(err.message);
      return new SfError("000904", "42000", `SQL compilation error: error line 1 at position 7\ninvalid identifier '${(name?.[1] ?? name?.[2] ?? "?").toUpperCase()}'`);
    }
    case "conversion":
      return new SfError("100038", "22018", `Numeric value is not recognized: ${err.message.split("\n")[0]}`);
    default:
      return new SfError("000603", "XX000", err.message);
  }
}
