/**
 * The redshift connector. No Redshift cluster is reachable from here: the SQL it generates is checked
 * against golden strings, and everything PostgreSQL 15 also accepts (the wire protocol, multi-row INSERT
 * batches, DELETE-based replace, staging + ROW_NUMBER() dedupe + MERGE) runs against the local PostgreSQL.
 * SUPER/JSON_PARSE (JSON columns) exist only on Redshift and are covered by the golden strings alone.
 */
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, LOCAL_POLICY } from "../../policies";
import type { PgConnector } from "../../runtime/connectors/postgres";
import { POSTGRES_DIALECT, REDSHIFT_DIALECT, insertValuesSql, parsePgTableName } from "../../runtime/connectors/postgres-sql";
import { REDSHIFT_MAX_PARAMS, RedshiftDriver } from "../../runtime/connectors/redshift";
import { RawJson, type ConnectorContext } from "../../runtime/connectors/types";
import { TauError } from "../../server/contract";

const SCHEMA = `tau_rs_test_${process.pid}`;
const BASE = { host: "127.0.0.1", port: 5432, database: "test", user: "postgres" };
const ctx: ConnectorContext = { dataDir: "/tmp", policy: LOCAL_POLICY, limits: DEFAULT_LIMITS };

describe("redshift: generated SQL (golden)", () => {
  const table = parsePgTableName("Analytics.orders");
  const columns = [
    { name: "id", type: "bigint" as const },
    { name: "note", type: "text" as const },
    { name: "doc", type: "json" as const },
    { name: "at", type: "timestamptz" as const },
  ];

  it("creates tables with Redshift types and the mergeKey as an (informational) primary key", () => {
    expect(REDSHIFT_DIALECT.createSchema(table)).toBe('CREATE SCHEMA IF NOT EXISTS "analytics"');
    expect(REDSHIFT_DIALECT.createTable(table, columns, ["id"])).toBe(
      'CREATE TABLE IF NOT EXISTS "analytics"."orders" ("id" BIGINT, "note" VARCHAR(65535), "doc" SUPER, "at" TIMESTAMPTZ, PRIMARY KEY ("id"))',
    );
    expect(REDSHIFT_DIALECT.addColumn(table, { name: "extra", type: "double" })).toBe('ALTER TABLE "analytics"."orders" ADD COLUMN "extra" DOUBLE PRECISION');
  });

  it("replaces with DELETE, because TRUNCATE commits the transaction on Redshift", () => {
    expect(REDSHIFT_DIALECT.clearTable(table)).toBe('DELETE FROM "analytics"."orders"');
    expect(POSTGRES_DIALECT.clearTable(table)).toBe('TRUNCATE TABLE "analytics"."orders"');
  });

  it("appends with multi-row INSERTs whose JSON values go through JSON_PARSE", () => {
    expect(insertValuesSql('"analytics"."orders"', ["id", "doc"], new Set(["doc"]), 2, false)).toBe(
      'INSERT INTO "analytics"."orders" ("id", "doc") VALUES ($1, JSON_PARSE($2)), ($3, JSON_PARSE($4))',
    );
    expect(insertValuesSql('"s"', ["id"], new Set(), 2, true)).toBe('INSERT INTO "s" ("__tau_seq", "id") VALUES ($1, $2), ($3, $4)');
  });

  it("upserts by staging, deduplicating with ROW_NUMBER() and one MERGE, with no ON CONFLICT", () => {
    expect(REDSHIFT_DIALECT.createStage("st", table, ["id", "note"])).toBe(
      'CREATE TEMP TABLE "st" AS SELECT CAST(NULL AS BIGINT) AS "__tau_seq", "id", "note" FROM "analytics"."orders" WHERE 1 = 0',
    );
    const merge = REDSHIFT_DIALECT.merge(table, "st", ["id", "note"], ["id"]);
    expect(merge).toEqual([
      'CREATE TEMP TABLE "st_d" AS SELECT "id", "note" FROM (SELECT "id", "note", ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY "__tau_seq" DESC) AS "__tau_rn" FROM "st") AS ranked WHERE "__tau_rn" = 1',
      'MERGE INTO "analytics"."orders" AS "__tau_t" USING "st_d" AS "__tau_s" ON "__tau_t"."id" = "__tau_s"."id" WHEN MATCHED THEN UPDATE SET "note" = "__tau_s"."note" WHEN NOT MATCHED THEN INSERT ("id", "note") VALUES ("__tau_s"."id", "__tau_s"."note")',
      'DROP TABLE "st_d"',
      'DROP TABLE "st"',
    ]);
    expect(merge.join(";")).not.toMatch(/ON CONFLICT|DISTINCT ON/);
  });

  it("the PostgreSQL dialect upserts with DISTINCT ON and ON CONFLICT instead", () => {
    expect(POSTGRES_DIALECT.merge(table, "st", ["id", "note"], ["id"])).toEqual([
      'INSERT INTO "analytics"."orders" ("id", "note") SELECT DISTINCT ON ("id") "id", "note" FROM "st" ORDER BY "id", "__tau_seq" DESC ON CONFLICT ("id") DO UPDATE SET "note" = EXCLUDED."note"',
    ]);
    expect(POSTGRES_DIALECT.merge(table, "st", ["id"], ["id"])[0]).toMatch(/ON CONFLICT \("id"\) DO NOTHING$/);
  });
});

describe("redshift: protocol-compatible parts against PostgreSQL", () => {
  let reader: Client;
  let rs: PgConnector;
  const T = (name: string): string => `${SCHEMA}.${name}`;
  const rowsOf = async (sql: string): Promise<Record<string, unknown>[]> => (await reader.query(sql)).rows;

  beforeAll(async () => {
    reader = new Client(BASE);
    await reader.connect();
    await reader.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    rs = (await new RedshiftDriver().open(BASE, ctx)) as PgConnector;
  });

  afterAll(async () => {
    await rs?.close();
    await reader.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await reader.end();
  });

  it("defaults to port 5439 when none is given", async () => {
    const err = await new RedshiftDriver().open({ host: "127.0.0.1", database: "test", user: "postgres", connectTimeoutMs: 2000 }, ctx).catch((e) => e);
    expect(err).toBeInstanceOf(TauError);
    expect((err as TauError).details).toMatchObject({ port: 5439 });
  });

  it("append writes INSERT batches split by parameter count, with text escaped by the protocol", async () => {
    const rows = Array.from({ length: 25_000 }, (_, i) => ({ id: i, note: i % 1000 === 0 ? `it's "q" \\ \n ✓ ${i}` : `n${i}`, at: "2024-01-02T03:04:05Z" }));
    expect(REDSHIFT_MAX_PARAMS / 3).toBeLessThan(rows.length); // more than one statement
    expect(await rs.call("load", [rows, { table: T("events") }])).toBe(25_000);
    expect(await rowsOf(`SELECT count(*)::int AS n, max(id)::int AS m FROM ${T("events")}`)).toEqual([{ n: 25_000, m: 24_999 }]);
    expect(await rowsOf(`SELECT note FROM ${T("events")} WHERE id = 3000`)).toEqual([{ note: `it's "q" \\ \n ✓ 3000` }]);
    const types = await rowsOf(
      `SELECT data_type, character_maximum_length AS len FROM information_schema.columns WHERE table_schema = '${SCHEMA}' AND table_name = 'events' AND column_name = 'note'`,
    );
    expect(types).toEqual([{ data_type: "character varying", len: 65535 }]);
  });

  it("replace deletes and inserts in one transaction", async () => {
    await rs.call("load", [[{ id: 1 }, { id: 2 }], { table: T("rep") }]);
    expect(await rs.call("load", [[{ id: 3 }], { table: T("rep"), mode: "replace" }])).toBe(1);
    expect(await rowsOf(`SELECT id::int FROM ${T("rep")}`)).toEqual([{ id: 3 }]);
  });

  it("upsert merges staged rows, keeps the last duplicate and is idempotent", async () => {
    const rows = [
      { id: 1, v: "a" },
      { id: 2, v: "b" },
      { id: 1, v: "a2" },
    ];
    expect(await rs.call("load", [rows, { table: T("up"), mode: "upsert", mergeKey: "id" }])).toBe(3);
    expect(await rs.call("load", [rows, { table: T("up"), mode: "upsert", mergeKey: "id" }])).toBe(3);
    await rs.call("load", [[{ id: 2, v: "B" }, { id: 3, v: "c" }], { table: T("up"), mode: "upsert", mergeKey: "id" }]);
    expect(await rowsOf(`SELECT id::int, v FROM ${T("up")} ORDER BY id`)).toEqual([
      { id: 1, v: "a2" },
      { id: 2, v: "B" },
      { id: 3, v: "c" },
    ]);
  });

  it("a failed load leaves the target as it was", async () => {
    await rs.call("execute", [`CREATE TABLE ${T("strict")} (id int NOT NULL, v text)`]);
    await rs.call("load", [[{ id: 1, v: "keep" }], { table: T("strict") }]);
    const err = await rs.call("load", [[{ id: 2, v: "x" }, { id: null, v: "y" }], { table: T("strict"), mode: "replace" }]).catch((e) => e);
    expect((err as TauError).code).toBe("TAU_E_CONNECTOR_CONSTRAINT");
    expect(await rowsOf(`SELECT id, v FROM ${T("strict")}`)).toEqual([{ id: 1, v: "keep" }]);
  });

  it("extract and streaming work over the same protocol", async () => {
    const rows = JSON.parse(((await rs.call("extract", [`SELECT id::int FROM ${T("up")} ORDER BY id`])) as RawJson).text);
    expect(rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    const cursor = await rs.openCursor(`SELECT id FROM ${T("events")}`, [], 10_000);
    let n = 0;
    for (let b = await cursor.next(); b; b = await cursor.next()) n += b.length;
    await cursor.close();
    expect(n).toBe(25_000);
  });
});
