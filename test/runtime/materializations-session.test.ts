/**
 * The SqlSession the `materialize` bridge operation gives the engine (runtime/connectors/sql-session.ts),
 * over real host connectors: DuckDB (a temp file), PostgreSQL and MariaDB. Statements run on the
 * connector's own connection (a temporary table the pipeline made is visible), rows come back for queries
 * and counts for changes, a transaction left open by a failure is rolled back, and the real engine
 * materializes through it on MariaDB — the dialect the sandbox tests do not drive. The warehouse connectors
 * are driven against their loopback fakes (test/runtime/fakes/).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection, type Connection } from "mysql2/promise";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_POLICY } from "../../policies";
import { ConnectorHost, openSqlSession, returnsRows, type HostConnector } from "../../runtime/connectors";
import { materialize } from "../../runtime/materializations";
import { validateSpec } from "../../runtime/sdk/materializations/validate";
import { TauError } from "../../server/contract";
import { FakeBigQuery } from "./fakes/bigquery-server";
import { FakeClickHouse } from "./fakes/clickhouse-server";
import { FakeSnowflake } from "./fakes/snowflake-server";

const PG_SCHEMA = `matsdk_session_${process.pid}`;
const MY_DB = `matsdk_session_${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), "tau-matsdk-session-"));
const host = new ConnectorHost();
const opened: HostConnector[] = [];
let pgAdmin: Client;
let myAdmin: Connection;

async function open(kind: string, options: Record<string, unknown>): Promise<HostConnector> {
  const c = await host.open(kind, options, { dataDir, policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits });
  opened.push(c);
  return c;
}

beforeAll(async () => {
  pgAdmin = new Client({ host: "127.0.0.1", database: "test", user: "postgres" });
  await pgAdmin.connect();
  await pgAdmin.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
  await pgAdmin.query(`CREATE SCHEMA ${PG_SCHEMA}`);
  myAdmin = await createConnection({ host: "127.0.0.1", user: "root" });
  await myAdmin.query(`DROP DATABASE IF EXISTS ${MY_DB}`);
  await myAdmin.query(`CREATE DATABASE ${MY_DB}`);
});
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  host.close();
  await pgAdmin?.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
  await pgAdmin?.end();
  await myAdmin?.query(`DROP DATABASE IF EXISTS ${MY_DB}`);
  await myAdmin?.end();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("returnsRows", () => {
  it.each([
    ["SELECT 1", true],
    ["  -- a comment\n select * from t", true],
    ["/* insert */ SELECT 'delete' AS x", true],
    ["WITH a AS (SELECT 1) SELECT * FROM a", true],
    ["WITH a AS (SELECT 1 AS id) INSERT INTO t SELECT * FROM a", false],
    ["WITH a AS (DELETE FROM t RETURNING *) SELECT count(*) FROM a", true],
    ["(SELECT 1) UNION ALL (SELECT 2)", true],
    ["((VALUES (1)))", true],
    ["SHOW TABLES", true],
    ["DESCRIBE t", true],
    ["VALUES (1), (2)", true],
    ["INSERT INTO t SELECT 1", false],
    ["CREATE TABLE t AS SELECT 1", false],
    ["UPDATE t SET x = 'select'", false],
    ["DO $$ BEGIN PERFORM 1; END $$", false],
    ["BEGIN", false],
  ])("%j → %s", (sql, expected) => {
    expect(returnsRows(sql)).toBe(expected);
  });
});

describe("a SQL session over a host connector", () => {
  it("runs on the connector's own connection: a temporary table the pipeline made is visible (PostgreSQL, DuckDB, MariaDB)", async () => {
    const cases: Array<[HostConnector, "postgres" | "duckdb" | "mysql", string]> = [
      [await open("postgres", { dsn: "postgres://postgres@127.0.0.1:5432/test" }), "postgres", "CREATE TEMPORARY TABLE tmp_src AS SELECT 1 AS id UNION ALL SELECT 2"],
      [await open("duckdb_local", { path: "session.duckdb" }), "duckdb", "CREATE TEMPORARY TABLE tmp_src AS SELECT 1 AS id UNION ALL SELECT 2"],
      [await open("mysql", { host: "127.0.0.1", user: "root", database: MY_DB }), "mysql", "CREATE TEMPORARY TABLE tmp_src AS SELECT 1 AS id UNION ALL SELECT 2"],
    ];
    for (const [connector, dialect, create] of cases) {
      await connector.call("execute", [create]);
      const session = openSqlSession(connector, dialect);
      expect(session.dialect).toBe(dialect);
      const { rows } = await session.execute("SELECT count(*) AS n FROM tmp_src");
      expect(Number(rows[0]!.n), dialect).toBe(2);
      expect((await session.execute("DELETE FROM tmp_src WHERE id = 1")).rowsAffected, dialect).toBe(1);
      expect(session.statements).toEqual(["SELECT count(*) AS n FROM tmp_src", "DELETE FROM tmp_src WHERE id = 1"]);
      await session.release(false);
      await expect(session.execute("SELECT 1")).rejects.toMatchObject({ code: "TAU_E_INTERNAL" });
    }
  });

  it("rolls back a transaction the engine left open when it failed, and keeps one it committed", async () => {
    const pg = await open("postgres", { dsn: "postgres://postgres@127.0.0.1:5432/test" });
    await pg.call("execute", [`CREATE TABLE ${PG_SCHEMA}.tx (id int)`]);
    const failed = openSqlSession(pg, "postgres");
    await failed.execute("BEGIN");
    await failed.execute(`INSERT INTO ${PG_SCHEMA}.tx VALUES (1)`);
    await expect(failed.execute(`INSERT INTO ${PG_SCHEMA}.no_such_table VALUES (1)`)).rejects.toMatchObject({ code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT" });
    await failed.release(true);
    // The connection is usable again (not stuck in an aborted transaction), and the insert is gone.
    expect(JSON.parse(((await pg.call("extract", [`SELECT count(*)::int AS n FROM ${PG_SCHEMA}.tx`])) as { text: string }).text)).toEqual([{ n: 0 }]);

    const committed = openSqlSession(pg, "postgres");
    await committed.execute("BEGIN");
    await committed.execute(`INSERT INTO ${PG_SCHEMA}.tx VALUES (2)`);
    await committed.execute("COMMIT");
    await committed.release(true);
    expect((await pgAdmin.query(`SELECT id FROM ${PG_SCHEMA}.tx`)).rows).toEqual([{ id: 2 }]);
  });

  it("refuses a dialect the connector does not speak, and a connector without SQL, with TAU_E_MATERIALIZE_CONFIG naming the field", async () => {
    const duck = await open("duckdb_local", { path: "session.duckdb" });
    const wrong = (() => {
      try {
        openSqlSession(duck, "postgres");
      } catch (err) {
        return err as TauError;
      }
      return null;
    })();
    expect(wrong).toBeInstanceOf(TauError);
    expect(wrong).toMatchObject({ code: "TAU_E_MATERIALIZE_CONFIG", details: { field: "dialect", expected: "duckdb" } });
    expect(wrong!.hint).toContain('"duckdb"');
    const api = await open("http_api", { baseUrl: "http://127.0.0.1:9" });
    expect(() => openSqlSession(api, "postgres")).toThrow(expect.objectContaining({ code: "TAU_E_MATERIALIZE_CONFIG", details: expect.objectContaining({ field: "connector" }) }));
  });

  it("carries the real engine on MariaDB: full refresh and incremental merge, twice, to the same tables", async () => {
    const my = await open("mysql", { host: "127.0.0.1", user: "root", database: MY_DB });
    await my.call("execute", ["CREATE TABLE raw_orders (id INT, name VARCHAR(20), updated_at DATETIME)"]);
    await my.call("execute", ["INSERT INTO raw_orders VALUES (1, 'a', '2024-01-01 00:00:00'), (2, 'b', '2024-01-02 00:00:00')"]);
    const specs = [
      validateSpec({ strategy: "full_refresh", targetTable: "dim_orders", sourceQuery: "SELECT id, name FROM raw_orders" }),
      validateSpec({ strategy: "incremental", targetTable: "fct_orders", sourceQuery: "SELECT * FROM raw_orders", uniqueKey: "id", incrementalColumn: "updated_at" }),
    ];
    const runOnce = async (): Promise<void> => {
      for (const spec of specs) {
        const session = openSqlSession(my, "mysql");
        try {
          const result = await materialize(spec, session, { now: new Date("2026-01-01T00:00:00Z"), runId: "run_matsdk_1" });
          expect(result.strategy).toBe(spec.strategy);
          await session.release(false);
        } catch (err) {
          await session.release(true);
          throw err;
        }
      }
    };
    const contents = async (): Promise<unknown> => {
      const [dim] = await myAdmin.query(`SELECT id, name FROM ${MY_DB}.dim_orders ORDER BY id`);
      const [fct] = await myAdmin.query(`SELECT id, name FROM ${MY_DB}.fct_orders ORDER BY id`);
      return { dim, fct };
    };
    await runOnce();
    await my.call("execute", ["UPDATE raw_orders SET name = 'b2', updated_at = '2024-01-03 00:00:00' WHERE id = 2"]);
    await my.call("execute", ["INSERT INTO raw_orders VALUES (3, 'c', '2024-01-04 00:00:00')"]);
    await runOnce();
    const expected = {
      dim: [{ id: 1, name: "a" }, { id: 2, name: "b2" }, { id: 3, name: "c" }],
      fct: [{ id: 1, name: "a" }, { id: 2, name: "b2" }, { id: 3, name: "c" }],
    };
    expect(await contents()).toEqual(expected);
    await runOnce();
    expect(await contents()).toEqual(expected);
  });
});

describe("a SQL session over the redshift connector (pointed at PostgreSQL, which speaks the subset used here)", () => {
  it("speaks the redshift dialect, refuses postgres, and carries the engine's Redshift SQL", async () => {
    const rs = await open("redshift", { host: "127.0.0.1", port: 5432, database: "test", user: "postgres" });
    expect(() => openSqlSession(rs, "postgres")).toThrow(expect.objectContaining({ code: "TAU_E_MATERIALIZE_CONFIG" }));
    await rs.call("execute", [`CREATE TABLE ${PG_SCHEMA}.rs_src AS SELECT 1 AS id, 'a'::text AS name UNION ALL SELECT 2, 'b'`]);
    for (const spec of [
      { strategy: "full_refresh", targetTable: `${PG_SCHEMA}.rs_full`, sourceQuery: `SELECT * FROM ${PG_SCHEMA}.rs_src` },
      { strategy: "incremental", targetTable: `${PG_SCHEMA}.rs_inc`, sourceQuery: `SELECT * FROM ${PG_SCHEMA}.rs_src`, uniqueKey: "id" },
    ]) {
      for (let run = 0; run < 2; run++) {
        const session = openSqlSession(rs, "redshift");
        await materialize(validateSpec(spec), session, { now: new Date("2026-01-01T00:00:00Z"), runId: "run_rs" });
        await session.release(false);
      }
      const { rows } = await pgAdmin.query(`SELECT id, name FROM ${spec.targetTable} ORDER BY id`);
      expect(rows, spec.strategy).toEqual([{ id: 1, name: "a" }, { id: 2, name: "b" }]);
    }
  });
});

describe("a SQL session over the warehouse connectors (their loopback fakes, DuckDB underneath)", () => {
  it("sends queries through extract and statements through execute, for bigquery, snowflake and clickhouse", async () => {
    const bq = await FakeBigQuery.start({ token: "test-token", datasets: ["sales"], denied: [] });
    const sf = await FakeSnowflake.start({ user: "tau", password: "pw-secret", schemas: ["SALES"], denied: [] });
    const ch = await FakeClickHouse.start({ user: "tau", password: "s3cret-pw", databases: ["analytics"], denied: [] });
    try {
      const cases: Array<[HostConnector, "bigquery" | "snowflake" | "clickhouse", string]> = [
        [await open("bigquery", { projectId: "proj", accessToken: "test-token", apiEndpoint: bq.url, dataset: "sales" }), "bigquery", "CREATE TABLE sales.s_t (id INT64)"],
        [await open("snowflake", { account: "acme", username: "tau", password: "pw-secret", accessUrl: sf.url, warehouse: "WH", database: "DB", schema: "SALES" }), "snowflake", "CREATE TABLE SALES.S_T (ID INTEGER)"],
        [await open("clickhouse", { url: ch.url, username: "tau", password: "s3cret-pw", database: "analytics" }), "clickhouse", "CREATE TABLE analytics.s_t (id Int64) ENGINE = MergeTree ORDER BY id"],
      ];
      for (const [connector, dialect, create] of cases) {
        const session = openSqlSession(connector, dialect);
        expect((await session.execute(create)).rows, dialect).toEqual([]);
        const table = dialect === "snowflake" ? "SALES.S_T" : dialect === "bigquery" ? "sales.s_t" : "analytics.s_t";
        await session.execute(`INSERT INTO ${table} VALUES (1), (2), (3)`);
        const { rows } = await session.execute(`SELECT count(*) AS n FROM ${table}`);
        expect(Number(Object.values(rows[0]!)[0]), dialect).toBe(3);
        expect(session.statements).toHaveLength(3);
        await session.release(false);
      }
    } finally {
      await Promise.all([bq.stop(), sf.stop(), ch.stop()]);
    }
  });
});
