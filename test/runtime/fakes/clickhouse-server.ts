/**
 * A loopback server speaking ClickHouse's HTTP interface for the calls the `clickhouse` driver makes:
 * `GET /ping`; `POST /?query_id=…&database=…&param_p1=…&<settings>` with the query as the body (the client
 * appends `FORMAT JSONEachRow` / `FORMAT JSONCompactEachRowWithNamesAndTypes`); inserts as
 * `POST /?query=INSERT INTO t (cols) FORMAT JSONEachRow` with NDJSON rows as the body; basic auth (or
 * `X-ClickHouse-User`/`-Key`); answers carry `X-ClickHouse-Query-Id`, `-Format`, `-Summary`, `-Timezone`; errors
 * are `Code: N. DB::Exception: … (TYPE) (version …)` with `X-ClickHouse-Exception-Code` and status 400/403/404/500.
 * Storage and SQL semantics come from DuckDB (duck-engine.ts), after translating ClickHouse DDL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { DuckDBValue } from "@duckdb/node-api";
import { DuckEngine, DuckEngineError, backticksToDouble, duckName, nameParts, splitTopLevel, unquote, type DeclaredColumn } from "./duck-engine";

const VERSION = "24.8.1.1";

interface ChError {
  code: number;
  type: string;
  status: number;
}

const ERRORS: Record<string, ChError> = {
  syntax: { code: 62, type: "SYNTAX_ERROR", status: 400 },
  unknown_table: { code: 60, type: "UNKNOWN_TABLE", status: 404 },
  unknown_column: { code: 47, type: "UNKNOWN_IDENTIFIER", status: 400 },
  conversion: { code: 27, type: "CANNOT_PARSE_INPUT_ASSERTION_FAILED", status: 400 },
  constraint: { code: 469, type: "VIOLATED_CONSTRAINT", status: 500 },
  other: { code: 1002, type: "UNKNOWN_EXCEPTION", status: 500 },
  auth: { code: 516, type: "AUTHENTICATION_FAILED", status: 403 },
  access: { code: 497, type: "ACCESS_DENIED", status: 403 },
  timeout: { code: 159, type: "TIMEOUT_EXCEEDED", status: 500 },
  exists: { code: 57, type: "TABLE_ALREADY_EXISTS", status: 500 },
};

class ChServerError extends Error {
  constructor(
    readonly kind: keyof typeof ERRORS,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeClickHouseOptions {
  user?: string;
  password?: string;
  /** Databases besides `default`. */
  databases?: string[];
  /** Tables whose reads are denied (ACCESS_DENIED) — for the permission test. */
  denied?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  body: string;
  status: number;
}

export class FakeClickHouse {
  readonly requests: RecordedRequest[] = [];
  /** Rows per chunk when writing a result: small, so the client really reads a stream. */
  chunkRows = 500;
  private constructor(
    readonly engine: DuckEngine,
    private readonly server: Server,
    private readonly o: FakeClickHouseOptions,
  ) {}

  static async start(o: FakeClickHouseOptions = {}): Promise<FakeClickHouse> {
    const engine = await DuckEngine.create(o.databases ?? []);
    let fake: FakeClickHouse | null = null;
    const server = createServer((req, res) => void fake!.handle(req, res));
    fake = new FakeClickHouse(engine, server, o);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.engine.close();
  }

  /** Runs ClickHouse SQL directly (test setup and assertions). */
  async sql(query: string): Promise<Record<string, unknown>[]> {
    const r = await this.execute(query, {});
    return r.rows.map((values) => Object.fromEntries(r.names.map((n, i) => [n, values[i]])));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const params = Object.fromEntries(url.searchParams);
    const record: RecordedRequest = { method: req.method ?? "", path: url.pathname, params, body, status: 200 };
    this.requests.push(record);
    const queryId = params.query_id ?? "q";
    res.setHeader("X-ClickHouse-Query-Id", queryId);
    res.setHeader("X-ClickHouse-Timezone", "UTC");
    res.setHeader("X-ClickHouse-Server-Display-Name", "tau-fake");
    try {
      if (url.pathname === "/ping") {
        res.end("Ok.\n");
        return;
      }
      this.authenticate(req);
      const insert = params.query !== undefined && /^\s*INSERT\s+INTO/i.test(params.query);
      if (insert) {
        const written = await this.insert(params.query, body);
        res.setHeader("X-ClickHouse-Summary", JSON.stringify({ read_rows: "0", read_bytes: "0", written_rows: String(written), written_bytes: String(body.length), total_rows_to_read: "0", result_rows: String(written), result_bytes: "0" }));
        res.end();
        return;
      }
      let query = params.query !== undefined ? `${params.query}\n${body}` : body;
      let format = "TabSeparated";
      const fm = /\s+FORMAT\s+(\w+)\s*;?\s*$/i.exec(query);
      if (fm) {
        format = fm[1];
        query = query.slice(0, fm.index);
      }
      const queryParams: Record<string, string> = {};
      for (const [k, v] of Object.entries(params)) if (k.startsWith("param_")) queryParams[k.slice(6)] = v;
      const denied = (this.o.denied ?? []).find((t) => new RegExp(`\\b${t}\\b`).test(query));
      if (denied) throw new ChServerError("access", `${this.o.user ?? "default"}: Not enough privileges. To execute this query, it's necessary to have the grant SELECT ON default.${denied}`);
      const result = await this.execute(query, queryParams);
      res.setHeader("X-ClickHouse-Format", format);
      res.setHeader("X-ClickHouse-Summary", JSON.stringify({ read_rows: String(result.rows.length), read_bytes: "0", written_rows: String(result.rowsChanged), written_bytes: "0", total_rows_to_read: "0", result_rows: String(result.rows.length), result_bytes: "0" }));
      res.setHeader("Content-Type", format.startsWith("JSON") ? "application/x-ndjson; charset=UTF-8" : "text/tab-separated-values; charset=UTF-8");
      // ClickHouse ≥ 25.11 announces a tag and, when a query fails after rows were sent, ends the body with
      // the exception framed by it; a query marked /* fail after N */ does that after N rows.
      const failAfter = /\/\* fail after (\d+) \*\//.exec(query);
      if (failAfter) {
        res.setHeader("X-ClickHouse-Exception-Tag", "tauTAG01");
        result.rows = result.rows.slice(0, Number(failAfter[1]));
        await this.writeResult(res, format, result, false);
        const message = `Code: 395. DB::Exception: Value passed to 'throwIf' function is non-zero. (FUNCTION_THROW_IF_VALUE_IS_NON_ZERO) (version ${VERSION})\n`;
        res.end(`\r\n__exception__\r\ntauTAG01\n${message}${Buffer.byteLength(message)} tauTAG01\r\n__exception__\r\n`);
        return;
      }
      await this.writeResult(res, format, result);
    } catch (err) {
      const e = err instanceof ChServerError ? { ...ERRORS[err.kind], message: err.message } : err instanceof DuckEngineError ? { ...ERRORS[err.kind], message: err.message } : { ...ERRORS.other, message: String(err) };
      record.status = e.status;
      if (res.headersSent) {
        res.end(`\nCode: ${e.code}. DB::Exception: ${e.message}. (${e.type}) (version ${VERSION})\n`);
        return;
      }
      res.statusCode = e.status;
      res.setHeader("X-ClickHouse-Exception-Code", String(e.code));
      res.setHeader("Content-Type", "text/plain; charset=UTF-8");
      res.end(`Code: ${e.code}. DB::Exception: ${e.message}. (${e.type}) (version ${VERSION})\n`);
    }
  }

  private authenticate(req: IncomingMessage): void {
    let user = req.headers["x-clickhouse-user"] as string | undefined;
    let key = req.headers["x-clickhouse-key"] as string | undefined;
    const auth = req.headers.authorization;
    if (auth?.startsWith("Basic ")) {
      const text = Buffer.from(auth.slice(6), "base64").toString("utf8");
      const i = text.indexOf(":");
      user = text.slice(0, i);
      key = text.slice(i + 1);
    }
    const wantUser = this.o.user ?? "default";
    const wantKey = this.o.password ?? "";
    if ((user ?? "default") !== wantUser || (key ?? "") !== wantKey) {
      throw new ChServerError("auth", `${user ?? "default"}: Authentication failed: password is incorrect, or there is no user with such name`);
    }
  }

  private async writeResult(res: ServerResponse, format: string, r: { names: string[]; duckTypes: string[]; rows: unknown[][] }, end = true): Promise<void> {
    const chTypes = r.duckTypes.map(chTypeOfDuck);
    const value = (v: unknown, i: number): unknown => (v !== null && /Int64|Int128/.test(chTypes[i]) ? String(v) : v);
    const lines: string[] = [];
    if (format === "JSONCompactEachRowWithNamesAndTypes") {
      lines.push(JSON.stringify(r.names), JSON.stringify(chTypes));
      for (const row of r.rows) lines.push(JSON.stringify(row.map(value)));
    } else if (format === "JSONEachRow") {
      for (const row of r.rows) lines.push(JSON.stringify(Object.fromEntries(r.names.map((n, i) => [n, value(row[i], i)]))));
    } else {
      for (const row of r.rows) lines.push(row.map((v) => (v === null ? "\\N" : String(v))).join("\t"));
    }
    for (let i = 0; i < lines.length; i += this.chunkRows) {
      const chunk = lines.slice(i, i + this.chunkRows).join("\n") + "\n";
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
    }
    if (end) res.end();
  }

  private async insert(query: string, body: string): Promise<number> {
    const m = /^\s*INSERT\s+INTO\s+(.+?)\s*(?:\((.*)\))?\s+FORMAT\s+JSONEachRow\s*$/is.exec(query);
    if (!m) throw new ChServerError("syntax", `Syntax error: failed at position 1: ${query.slice(0, 80)}`);
    const parts = nameParts(m[1]);
    const table = duckName(this.resolve(parts));
    const columns = m[2] ? splitTopLevel(m[2]).map(unquote) : null;
    const rows = body.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
    if (rows.length === 0) return 0;
    const cols = columns ?? Object.keys(rows[0]);
    for (let i = 0; i < rows.length; i += 500) {
      const slice = rows.slice(i, i + 500);
      const values: DuckDBValue[] = [];
      const tuples = slice.map((row) => {
        for (const c of cols) {
          const v = row[c];
          values.push(v === undefined || v === null ? null : typeof v === "object" ? JSON.stringify(v) : (v as DuckDBValue));
        }
        return `(${cols.map(() => "?").join(", ")})`;
      });
      await this.engine.run(`INSERT INTO ${table} (${cols.map((c) => duckName([c])).join(", ")}) VALUES ${tuples.join(", ")}`, values);
    }
    return rows.length;
  }

  /** ClickHouse `db.table` → DuckDB schema/table (`default` is DuckDB's `main`). */
  private resolve(parts: string[]): string[] {
    if (parts.length === 1) return ["main", parts[0]];
    return [parts[0] === "default" ? "main" : parts[0], parts[1]];
  }

  private keyOf(text: string): string {
    const [s, t] = this.resolve(nameParts(text));
    return DuckEngine.key(s, t);
  }

  private async execute(query: string, params: Record<string, string>): Promise<{ names: string[]; duckTypes: string[]; rows: unknown[][]; rowsChanged: number }> {
    const q = query.trim().replace(/;$/, "");
    const empty = { names: [], duckTypes: [], rows: [], rowsChanged: 0 };
    let m: RegExpExecArray | null;
    if ((m = /^DESCRIBE\s+TABLE\s+(.+)$/is.exec(q))) {
      const key = this.keyOf(m[1]);
      const [s, t] = this.resolve(nameParts(m[1]));
      if (!(await this.engine.tableExists(s, t))) throw new ChServerError("unknown_table", `Table ${s === "main" ? "default" : s}.${t} does not exist`);
      const cols = this.engine.catalog.get(key) ?? [];
      return {
        names: ["name", "type", "default_type", "default_expression", "comment", "codec_expression", "ttl_expression"],
        duckTypes: ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"],
        rows: cols.map((c) => [c.name, c.type, "", "", "", "", ""]),
        rowsChanged: 0,
      };
    }
    if ((m = /^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\S+)\s+AS\s+(\S+)$/is.exec(q))) {
      const [s, t] = this.resolve(nameParts(m[2]));
      const like = this.resolve(nameParts(m[3]));
      if (!(await this.engine.tableExists(like[0], like[1]))) throw new ChServerError("unknown_table", `Table ${like.join(".")} does not exist`);
      await this.engine.run(`CREATE TABLE ${m[1] ?? ""} ${duckName([s, t])} AS SELECT * FROM ${duckName(like)} LIMIT 0`);
      this.engine.catalog.set(DuckEngine.key(s, t), [...(this.engine.catalog.get(DuckEngine.key(like[0], like[1])) ?? [])]);
      return empty;
    }
    if ((m = /^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\S+)\s*\((.*)\)\s*ENGINE\s*=.*$/is.exec(q))) {
      const [s, t] = this.resolve(nameParts(m[2]));
      if (!m[1] && (await this.engine.tableExists(s, t))) throw new ChServerError("exists", `Table ${s}.${t} already exists`);
      const cols = splitTopLevel(m[3]).map(parseColumnDef);
      await this.engine.run(`CREATE TABLE ${m[1] ?? ""} ${duckName([s, t])} (${cols.map((c) => `${duckName([c.name])} ${duckTypeOfCh(c.type)}`).join(", ")})`);
      if (!this.engine.catalog.has(DuckEngine.key(s, t)) || !m[1]) this.engine.catalog.set(DuckEngine.key(s, t), cols);
      return empty;
    }
    if ((m = /^ALTER\s+TABLE\s+(\S+)\s+(ADD\s+COLUMN\s.*)$/is.exec(q))) {
      const [s, t] = this.resolve(nameParts(m[1]));
      const cols = this.engine.catalog.get(DuckEngine.key(s, t)) ?? [];
      for (const clause of splitTopLevel(m[2])) {
        const c = /^ADD\s+COLUMN\s+(?:IF\s+NOT\s+EXISTS\s+)?(.*)$/is.exec(clause);
        if (!c) throw new ChServerError("syntax", `Syntax error near ${clause}`);
        const def = parseColumnDef(c[1]);
        if (cols.some((x) => x.name === def.name)) continue;
        await this.engine.run(`ALTER TABLE ${duckName([s, t])} ADD COLUMN ${duckName([def.name])} ${duckTypeOfCh(def.type)}`);
        cols.push(def);
      }
      this.engine.catalog.set(DuckEngine.key(s, t), cols);
      return empty;
    }
    if ((m = /^ALTER\s+TABLE\s+(\S+)\s+DELETE\s+WHERE\s+(.*)$/is.exec(q))) {
      const r = await this.engine.run(`DELETE FROM ${duckName(this.resolve(nameParts(m[1])))} WHERE ${this.translate(m[2])}`);
      return { ...empty, rowsChanged: r.rowsChanged };
    }
    if ((m = /^EXCHANGE\s+TABLES\s+(\S+)\s+AND\s+(\S+)$/is.exec(q))) {
      const a = this.resolve(nameParts(m[1]));
      const b = this.resolve(nameParts(m[2]));
      const tmp = `__exchange_${Date.now()}`;
      await this.engine.run(`ALTER TABLE ${duckName(a)} RENAME TO ${duckName([tmp])}`);
      await this.engine.run(`ALTER TABLE ${duckName(b)} RENAME TO ${duckName([a[1]])}`);
      await this.engine.run(`ALTER TABLE ${duckName([a[0], tmp])} RENAME TO ${duckName([b[1]])}`);
      const ka = DuckEngine.key(a[0], a[1]);
      const kb = DuckEngine.key(b[0], b[1]);
      const ca = this.engine.catalog.get(ka) ?? [];
      this.engine.catalog.set(ka, this.engine.catalog.get(kb) ?? []);
      this.engine.catalog.set(kb, ca);
      return empty;
    }
    if ((m = /^RENAME\s+TABLE\s+(\S+)\s+TO\s+(\S+)$/is.exec(q))) {
      const a = this.resolve(nameParts(m[1]));
      const b = this.resolve(nameParts(m[2]));
      await this.engine.run(`ALTER TABLE ${duckName(a)} RENAME TO ${duckName([b[1]])}`);
      this.engine.catalog.set(DuckEngine.key(b[0], b[1]), this.engine.catalog.get(DuckEngine.key(a[0], a[1])) ?? []);
      this.engine.catalog.delete(DuckEngine.key(a[0], a[1]));
      return empty;
    }
    if ((m = /^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?(\S+)$/is.exec(q))) {
      const a = this.resolve(nameParts(m[2]));
      await this.engine.run(`DROP TABLE ${m[1] ?? ""} ${duckName(a)}`);
      this.engine.catalog.delete(DuckEngine.key(a[0], a[1]));
      return empty;
    }
    if ((m = /^TRUNCATE\s+TABLE\s+(\S+)$/is.exec(q))) {
      await this.engine.run(`DELETE FROM ${duckName(this.resolve(nameParts(m[1])))}`);
      return empty;
    }
    if (/^SELECT\s+sleep/i.test(q)) throw new ChServerError("timeout", "Timeout exceeded: elapsed 1.0 seconds, maximum: 0.5");
    const values: Record<string, DuckDBValue> = {};
    let sql = this.translate(q).replace(/\{(\w+):([^}]+)\}/g, (_m, name: string, type: string) => {
      if (!(name in params)) throw new ChServerError("other", `Substitution \`${name}\` is not set`);
      values[name] = params[name];
      return `CAST($${name} AS ${duckTypeOfCh(type)})`;
    });
    sql = sql.replace(/\bnumbers\((\d+)\)/g, "(SELECT range AS number FROM range($1))");
    const r = await this.engine.run(sql, Object.keys(values).length > 0 ? values : undefined);
    return r;
  }

  /** ClickHouse table names in free SQL → DuckDB's (`default.x` → `main.x`); backticks → double quotes. */
  private translate(sql: string): string {
    return backticksToDouble(sql).replace(/"default"\./g, "main.").replace(/\bdefault\./g, "main.");
  }
}

function parseColumnDef(def: string): DeclaredColumn {
  const m = /^(`(?:[^`\\]|\\.)*`|"[^"]*"|\S+)\s+(.+)$/s.exec(def.trim());
  if (!m) throw new ChServerError("syntax", `Syntax error in column definition ${def}`);
  return { name: unquote(m[1]), type: m[2].trim() };
}

export function duckTypeOfCh(type: string): string {
  let t = type.trim();
  for (;;) {
    const m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t);
    if (!m) break;
    t = m[1];
  }
  if (/^U?Int(8|16|32|64)$/.test(t)) return "BIGINT";
  if (/^U?Int(128|256)$/.test(t)) return "HUGEINT";
  if (/^Float(32|64)$/.test(t)) return "DOUBLE";
  const d = /^Decimal\((\d+),\s*(\d+)\)$/.exec(t);
  if (d) return `DECIMAL(${d[1]}, ${d[2]})`;
  if (t === "Bool") return "BOOLEAN";
  if (t === "Date" || t === "Date32") return "DATE";
  if (/^DateTime/.test(t)) return "TIMESTAMP";
  if (t === "JSON") return "JSON";
  return "VARCHAR";
}

function chTypeOfDuck(type: string): string {
  if (type === "BIGINT" || type === "UBIGINT") return "Int64";
  if (type === "INTEGER") return "Int32";
  if (type === "SMALLINT") return "Int16";
  if (type === "TINYINT") return "Int8";
  if (type === "HUGEINT") return "Int128";
  if (type === "DOUBLE" || type === "FLOAT") return "Float64";
  if (type === "BOOLEAN") return "Bool";
  if (type === "DATE") return "Date";
  if (type.startsWith("TIMESTAMP")) return "DateTime64(3)";
  if (type.startsWith("DECIMAL")) return type.replace("DECIMAL", "Decimal");
  return "String";
}
