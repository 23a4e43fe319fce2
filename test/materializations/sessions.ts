/**
 * SqlSession implementations over the real drivers (pg, mysql2, @duckdb/node-api), and a small harness that
 * gives each test file its own namespace: PostgreSQL schema `mat_<file>_<pid>` in db `test`, MariaDB tables
 * `mat_<file>_<pid>_<name>` in db `test`, DuckDB a temp file. Rows read back are normalised so one expected
 * table serves every engine: booleans → 1/0, BIGINT → number, timestamps → `YYYY-MM-DD HH:MM:SS` (UTC).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { createConnection, type Connection } from "mysql2/promise";
import pg from "pg";
import type { SqlSession } from "../../runtime/sdk/materializations/spec";

export type EngineName = "postgres" | "duckdb" | "mysql";
export type ColType = "int" | "text" | "ts" | "date";
export type Value = string | number | null | boolean;

export interface ClosableSession extends SqlSession {
  close(): Promise<void>;
}

export interface TestDb {
  readonly engine: EngineName;
  /** A fresh connection (its own session: transactions, locks). */
  session(): Promise<ClosableSession>;
  /** The name a test table gets in this file's namespace, as a targetTable/sourceQuery may write it. */
  t(name: string): string;
  exec(sql: string): Promise<void>;
  /** Creates (or recreates) a table and fills it. */
  seed(name: string, columns: Record<string, ColType>, rows: Value[][]): Promise<void>;
  rows(name: string, columns: readonly string[], orderBy?: readonly string[]): Promise<Value[][]>;
  count(name: string): Promise<number>;
  /** Helper tables (`…__tau_stage_…`, `…__tau_new_…`, `…__tau_old_…`) left in this file's namespace. */
  leftovers(): Promise<string[]>;
  close(): Promise<void>;
}

const TS = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)/;

export function normalise(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.toISOString().slice(0, 19).replace("T", " ");
  if (typeof v === "string") {
    const m = TS.exec(v);
    return m ? `${m[1]} ${m[2]}` : v;
  }
  if (typeof v === "number") return v;
  return String(v);
}

function literal(v: Value): string {
  if (v === null) return "NULL";
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  return `'${v.replace(/'/g, "''")}'`;
}

const TYPES: Record<EngineName, Record<ColType, string>> = {
  postgres: { int: "INTEGER", text: "VARCHAR(100)", ts: "TIMESTAMP", date: "DATE" },
  duckdb: { int: "INTEGER", text: "VARCHAR", ts: "TIMESTAMP", date: "DATE" },
  mysql: { int: "INT", text: "VARCHAR(100)", ts: "DATETIME", date: "DATE" },
};

abstract class BaseDb implements TestDb {
  abstract readonly engine: EngineName;
  protected admin!: ClosableSession;
  abstract session(): Promise<ClosableSession>;
  abstract t(name: string): string;
  abstract close(): Promise<void>;

  protected q(name: string): string {
    return this.engine === "mysql" ? `\`${name}\`` : `"${name}"`;
  }

  protected qt(name: string): string {
    return this.t(name)
      .split(".")
      .map((p) => this.q(p))
      .join(".");
  }

  async exec(sql: string): Promise<void> {
    await this.admin.execute(sql);
  }

  async seed(name: string, columns: Record<string, ColType>, rows: Value[][]): Promise<void> {
    await this.exec(`DROP TABLE IF EXISTS ${this.qt(name)}${this.engine === "postgres" ? " CASCADE" : ""}`);
    const defs = Object.entries(columns).map(([c, ty]) => `${this.q(c)} ${TYPES[this.engine][ty]}`);
    await this.exec(`CREATE TABLE ${this.qt(name)} (${defs.join(", ")})`);
    if (rows.length > 0) {
      await this.exec(`INSERT INTO ${this.qt(name)} VALUES ${rows.map((r) => `(${r.map(literal).join(", ")})`).join(", ")}`);
    }
  }

  async rows(name: string, columns: readonly string[], orderBy: readonly string[] = columns): Promise<Value[][]> {
    const res = await this.admin.execute(
      `SELECT ${columns.map((c) => this.q(c)).join(", ")} FROM ${this.qt(name)} ORDER BY ${orderBy.map((c) => this.q(c)).join(", ")}`,
    );
    return res.rows.map((r) => columns.map((c) => normalise(r[c])));
  }

  async leftovers(): Promise<string[]> {
    const schema = this.engine === "mysql" ? "test" : this.t("x").split(".")[0]!;
    const res = await this.admin.execute(`SELECT table_name AS n FROM information_schema.tables WHERE table_schema = '${schema}'`);
    const prefix = this.engine === "mysql" ? this.t("") : "";
    return res.rows
      .map((r) => String(r.n ?? r.N ?? r.TABLE_NAME))
      .filter((n) => n.startsWith(prefix) && /__tau_(stage|new|old)_/.test(n));
  }

  async count(name: string): Promise<number> {
    const res = await this.admin.execute(`SELECT COUNT(*) AS n FROM ${this.qt(name)}`);
    return Number(normalise(res.rows[0]!.n));
  }
}

// ── PostgreSQL ──────────────────────────────────────────────────────────────────────────────────────

const PG_RAW = new Set([1114, 1184, 1082]); // timestamp, timestamptz, date: keep the server's text

function pgTypes(): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: string) =>
      PG_RAW.has(oid) ? (v: string) => v : oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
  };
}

export async function pgSession(): Promise<ClosableSession> {
  const client = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test", types: pgTypes() });
  await client.connect();
  await client.query("SET TIME ZONE 'UTC'");
  return {
    dialect: "postgres",
    async execute(sql) {
      const res = await client.query(sql);
      return { rows: (res.rows ?? []) as Record<string, unknown>[], rowsAffected: res.rowCount ?? 0 };
    },
    close: () => client.end(),
  };
}

class PgDb extends BaseDb {
  readonly engine = "postgres" as const;
  constructor(private readonly schema: string) {
    super();
  }
  async init(): Promise<this> {
    this.admin = await pgSession();
    await this.exec(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    await this.exec(`CREATE SCHEMA "${this.schema}"`);
    return this;
  }
  session(): Promise<ClosableSession> {
    return pgSession();
  }
  t(name: string): string {
    return `${this.schema}.${name}`;
  }
  async close(): Promise<void> {
    await this.exec(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`).catch(() => undefined);
    await this.admin.close();
  }
}

// ── MariaDB (mysql dialect) ─────────────────────────────────────────────────────────────────────────

export async function mysqlSession(): Promise<ClosableSession> {
  const conn: Connection = await createConnection({ host: "127.0.0.1", user: "root", database: "test", dateStrings: true, timezone: "Z" });
  return {
    dialect: "mysql",
    async execute(sql) {
      const [result] = await conn.query(sql);
      if (Array.isArray(result)) return { rows: result as Record<string, unknown>[], rowsAffected: 0 };
      return { rows: [], rowsAffected: (result as { affectedRows?: number }).affectedRows ?? 0 };
    },
    close: () => conn.end(),
  };
}

class MysqlDb extends BaseDb {
  readonly engine = "mysql" as const;
  private readonly created = new Set<string>();
  constructor(private readonly prefix: string) {
    super();
  }
  async init(): Promise<this> {
    this.admin = await mysqlSession();
    return this;
  }
  session(): Promise<ClosableSession> {
    return mysqlSession();
  }
  t(name: string): string {
    this.created.add(`${this.prefix}_${name}`);
    return `${this.prefix}_${name}`;
  }
  async close(): Promise<void> {
    const res = await this.admin.execute(
      `SELECT TABLE_NAME AS n, TABLE_TYPE AS k FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'test' AND TABLE_NAME LIKE '${this.prefix}\\_%'`,
    );
    for (const r of res.rows) {
      await this.exec(`DROP ${String(r.k) === "VIEW" ? "VIEW" : "TABLE"} IF EXISTS \`${String(r.n)}\``).catch(() => undefined);
    }
    await this.admin.close();
  }
}

// ── DuckDB ──────────────────────────────────────────────────────────────────────────────────────────

export function duckSession(connection: DuckDBConnection): ClosableSession {
  return {
    dialect: "duckdb",
    async execute(sql) {
      const reader = await connection.runAndReadAll(sql);
      // JS values (numbers, bigint, Date), except DATE columns, whose JSON text keeps them apart from midnight timestamps.
      const json = reader.getRowObjectsJson();
      const rows = reader.getRowObjectsJS().map((r, i) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date && /^\d{4}-\d\d-\d\d$/.test(String(json[i]![k])) ? json[i]![k] : v])),
      );
      return { rows, rowsAffected: reader.rowsChanged };
    },
    close: async () => connection.closeSync(),
  };
}

class DuckDb extends BaseDb {
  readonly engine = "duckdb" as const;
  private instance!: DuckDBInstance;
  private readonly dir = mkdtempSync(join(tmpdir(), "tau-mat-"));
  async init(): Promise<this> {
    this.instance = await DuckDBInstance.create(join(this.dir, "warehouse.duckdb"));
    this.admin = await this.session();
    await this.exec("CREATE SCHEMA IF NOT EXISTS mat");
    return this;
  }
  async session(): Promise<ClosableSession> {
    return duckSession(await this.instance.connect());
  }
  t(name: string): string {
    return `mat.${name}`;
  }
  async close(): Promise<void> {
    await this.admin.close();
    this.instance.closeSync();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function openDb(engine: EngineName, file: string): Promise<TestDb> {
  const tag = `mat_${file}_${process.pid}`;
  switch (engine) {
    case "postgres":
      return new PgDb(tag).init();
    case "mysql":
      return new MysqlDb(tag).init();
    case "duckdb":
      return new DuckDb().init();
  }
}

export const ENGINES: readonly EngineName[] = ["postgres", "duckdb", "mysql"];
