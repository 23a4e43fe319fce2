/**
 * Golden tests of the SQL the clickhouse, bigquery and snowflake drivers generate (pure functions), their
 * type maps and value conversions, and the three error converters on the errors their clients raise.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { convertBigQueryError } from "../../runtime/connectors/bigquery-errors";
import { bigquerySql, bqFamily, bqReadValue, bqTypeFor, parseBigQueryTable } from "../../runtime/connectors/bigquery-sql";
import { convertClickHouseError } from "../../runtime/connectors/clickhouse-errors";
import { chFamily, chInsertValue, chQuote, chReadValue, chTypeFor, clickhouseSql, parseClickHouseTable } from "../../runtime/connectors/clickhouse-sql";
import { convertSnowflakeError } from "../../runtime/connectors/snowflake-errors";
import { parseSnowflakeTable, sfBindValue, sfColumnKey, sfFamily, sfIdent, sfTypeFor, snowflakeSql } from "../../runtime/connectors/snowflake-sql";
import { loadDriver } from "../../runtime/connectors/warehouse-common";
import { accepts, kindForColumn, kindOf, type TargetColumn } from "../../runtime/connectors/warehouse-load";

const ch = (name: string, kind: Parameters<typeof chTypeFor>[0]): TargetColumn => ({ name, ...chTypeFor(kind) });
const bq = (name: string, kind: Parameters<typeof bqTypeFor>[0]): TargetColumn => ({ name, ...bqTypeFor(kind) });
const sf = (name: string, kind: Parameters<typeof sfTypeFor>[0]): TargetColumn => ({ name, ...sfTypeFor(kind) });

describe("value kinds shared by the three loaders", () => {
  it("classifies JSON values and widens mixed columns", () => {
    expect([true, 1, 1.5, "2024-01-02", "2024-01-02T03:04:05Z", "2024-01-02 03:04", "x", { a: 1 }, [1], null].map(kindOf)).toEqual([
      "bool", "int", "float", "date", "timestamp", "timestamp", "string", "json", "json", null,
    ]);
    expect(kindForColumn(new Set(["int", "float"] as const))).toBe("float");
    expect(kindForColumn(new Set(["date", "timestamp"] as const))).toBe("timestamp");
    expect(kindForColumn(new Set(["int", "string"] as const))).toBe("string");
    expect(accepts("float", "int")).toBe(true);
    expect(accepts("int", "float")).toBe(false);
    expect(accepts("timestamp", "date")).toBe(true);
    expect(accepts("date", "timestamp")).toBe(false);
    expect(accepts("other", "json")).toBe(true);
  });
});

describe("clickhouse SQL", () => {
  it("quotes and qualifies table names", () => {
    expect(parseClickHouseTable("orders").sql).toBe("`orders`");
    expect(parseClickHouseTable("analytics.orders").sql).toBe("`analytics`.`orders`");
    expect(parseClickHouseTable("`my db`.`we``ird`").sql).toBe("`my db`.`we\\`ird`");
    expect(() => parseClickHouseTable("a.b.c")).toThrow(/at most 2/);
    expect(chQuote("a`b\\c")).toBe("`a\\`b\\\\c`");
  });

  it("generates the load statements", () => {
    const cols = [ch("id", "int"), ch("at", "timestamp"), ch("doc", "json")];
    expect(clickhouseSql.createTable("`t`", cols)).toBe(
      "CREATE TABLE `t` (`id` Nullable(Int64), `at` Nullable(DateTime64(3)), `doc` Nullable(String)) ENGINE = MergeTree ORDER BY tuple()",
    );
    expect(clickhouseSql.createTableLike("`s`", "`t`")).toBe("CREATE TABLE `s` AS `t`");
    expect(clickhouseSql.addColumns("`t`", cols.slice(1))).toBe(
      "ALTER TABLE `t` ADD COLUMN IF NOT EXISTS `at` Nullable(DateTime64(3)), ADD COLUMN IF NOT EXISTS `doc` Nullable(String)",
    );
    expect(clickhouseSql.insertSelect("`t`", "`s`", cols)).toBe("INSERT INTO `t` (`id`, `at`, `doc`) SELECT `id`, `at`, `doc` FROM `s`");
    expect(clickhouseSql.exchange("`t`", "`s`")).toBe("EXCHANGE TABLES `t` AND `s`");
    expect(clickhouseSql.rename("`s`", "`t`")).toBe("RENAME TABLE `s` TO `t`");
    expect(clickhouseSql.deleteKeys("`t`", "`s`", ["a", "b"])).toBe("ALTER TABLE `t` DELETE WHERE (`a`, `b`) IN (SELECT `a`, `b` FROM `s`)");
    expect(clickhouseSql.describe("`db`.`t`")).toBe("DESCRIBE TABLE `db`.`t`");
  });

  it("maps types and values both ways", () => {
    expect(["Int32", "Nullable(UInt64)", "LowCardinality(Nullable(String))", "Decimal(18, 2)", "DateTime64(3, 'UTC')", "Date32", "Bool", "JSON", "Array(String)"].map(chFamily)).toEqual([
      "int", "int", "string", "float", "timestamp", "date", "bool", "json", "other",
    ]);
    expect(chReadValue("9007199254740993", "Int64")).toBe("9007199254740993");
    expect(chReadValue("42", "Nullable(UInt64)")).toBe(42);
    expect(chReadValue("42", "String")).toBe("42");
    expect(chInsertValue({ a: 1 }, "string")).toBe('{"a":1}');
    expect(chInsertValue(5, "string")).toBe("5");
    expect(chInsertValue(5, "int")).toBe(5);
  });
});

describe("bigquery SQL", () => {
  it("qualifies table names with the default project and dataset", () => {
    expect(parseBigQueryTable("orders", "p", "d").sql).toBe("`p`.`d`.`orders`");
    expect(parseBigQueryTable("sales.orders", "p", null).sql).toBe("`p`.`sales`.`orders`");
    expect(parseBigQueryTable("other-proj.sales.orders", "p", null)).toMatchObject({ projectId: "other-proj", datasetId: "sales", tableId: "orders" });
    expect(() => parseBigQueryTable("orders", "p", null)).toThrow(/needs a dataset/);
  });

  it("generates the load statements", () => {
    const cols = [bq("id", "int"), bq("v", "string"), bq("doc", "json")];
    expect(bigquerySql.createTable("`p`.`d`.`s`", cols)).toBe("CREATE TABLE `p`.`d`.`s` (`id` INT64, `v` STRING, `doc` JSON)");
    expect(bigquerySql.createAsSelect("`p`.`d`.`t`", "`p`.`d`.`s`", cols, true)).toBe("CREATE OR REPLACE TABLE `p`.`d`.`t` AS SELECT `id`, `v`, `doc` FROM `p`.`d`.`s`");
    expect(bigquerySql.insertSelect("T1", "S1", cols)).toBe("INSERT INTO T1 (`id`, `v`, `doc`) SELECT `id`, `v`, `doc` FROM S1");
    expect(bigquerySql.addColumns("T1", [bq("n", "float")])).toBe("ALTER TABLE T1 ADD COLUMN IF NOT EXISTS `n` FLOAT64");
    expect(bigquerySql.merge("T1", "S1", cols, ["id"])).toBe(
      "MERGE INTO T1 AS T USING S1 AS S ON T.`id` = S.`id` WHEN MATCHED THEN UPDATE SET `v` = S.`v`, `doc` = S.`doc` WHEN NOT MATCHED THEN INSERT (`id`, `v`, `doc`) VALUES (S.`id`, S.`v`, S.`doc`)",
    );
    expect(bigquerySql.merge("T1", "S1", [bq("id", "int")], ["id"])).toBe(
      "MERGE INTO T1 AS T USING S1 AS S ON T.`id` = S.`id` WHEN NOT MATCHED THEN INSERT (`id`) VALUES (S.`id`)",
    );
  });

  it("maps types and decodes getQueryResults cells", () => {
    expect(["INTEGER", "FLOAT", "NUMERIC", "BOOLEAN", "DATETIME", "GEOGRAPHY"].map(bqFamily)).toEqual(["int", "float", "float", "bool", "timestamp", "other"]);
    expect(bqReadValue("1704164645123456", { name: "t", type: "TIMESTAMP" })).toBe("2024-01-02T03:04:05.123456Z");
    expect(bqReadValue("1704164645123000", { name: "t", type: "TIMESTAMP" })).toBe("2024-01-02T03:04:05.123Z");
    expect(bqReadValue("9007199254740993", { name: "n", type: "INT64" })).toBe("9007199254740993");
    expect(bqReadValue([{ v: "1" }, { v: "2" }], { name: "a", type: "INT64", mode: "REPEATED" })).toEqual([1, 2]);
    expect(bqReadValue({ f: [{ v: "x" }, { v: "true" }] }, { name: "r", type: "RECORD", fields: [{ name: "s", type: "STRING" }, { name: "b", type: "BOOL" }] })).toEqual({ s: "x", b: true });
  });
});

describe("snowflake SQL", () => {
  it("folds bare names to upper case and quotes the rest (and reserved words)", () => {
    expect(parseSnowflakeTable("orders").sql).toBe("ORDERS");
    expect(parseSnowflakeTable('raw.shop."Mixed Case"').sql).toBe('RAW.SHOP."Mixed Case"');
    expect(parseSnowflakeTable("shop.orders").sibling("__TAU_STAGE_1")).toBe("SHOP.__TAU_STAGE_1");
    expect(sfColumnKey("id")).toBe("ID");
    expect(sfColumnKey("Order Id")).toBe("Order Id");
    expect(sfIdent("ORDER")).toBe('"ORDER"');
    expect(sfIdent("Order Id")).toBe('"Order Id"');
  });

  it("generates the load statements (VARIANT staged as VARCHAR, parsed back)", () => {
    const cols = [sf("ID", "int"), sf("TS", "timestamp"), sf("DOC", "json")];
    expect(snowflakeSql.createStage("S1", cols)).toBe("CREATE TEMPORARY TABLE S1 (ID NUMBER(38,0), TS TIMESTAMP_TZ, DOC VARCHAR)");
    expect(snowflakeSql.insertBound("S1", cols)).toBe("INSERT INTO S1 (ID, TS, DOC) VALUES (?, ?, ?)");
    expect(snowflakeSql.createAsSelect("T1", "S1", cols, false)).toBe("CREATE TABLE T1 AS SELECT ID, TS, PARSE_JSON(DOC) AS DOC FROM S1");
    expect(snowflakeSql.insertSelect("T1", "S1", cols)).toBe("INSERT INTO T1 (ID, TS, DOC) SELECT ID, TS, PARSE_JSON(DOC) AS DOC FROM S1");
    expect(snowflakeSql.swap("T1", "N1")).toBe("ALTER TABLE T1 SWAP WITH N1");
    expect(snowflakeSql.addColumn("T1", sf("NOTE", "string"))).toBe("ALTER TABLE T1 ADD COLUMN IF NOT EXISTS NOTE VARCHAR");
    expect(snowflakeSql.merge("T1", "S1", cols, ["ID"])).toBe(
      "MERGE INTO T1 AS T USING (SELECT ID, TS, PARSE_JSON(DOC) AS DOC FROM S1) AS S ON T.ID = S.ID WHEN MATCHED THEN UPDATE SET TS = S.TS, DOC = S.DOC WHEN NOT MATCHED THEN INSERT (ID, TS, DOC) VALUES (S.ID, S.TS, S.DOC)",
    );
  });

  it("maps types and binds values as text", () => {
    expect(["NUMBER(38,0)", "NUMBER(10,2)", "VARCHAR(16777216)", "TIMESTAMP_NTZ(9)", "VARIANT", "BINARY"].map(sfFamily)).toEqual(["int", "float", "string", "timestamp", "json", "other"]);
    expect(sfBindValue("abc", "json")).toBe('"abc"');
    expect(sfBindValue({ a: 1 }, "json")).toBe('{"a":1}');
    expect(sfBindValue(true, "bool")).toBe("true");
    expect(sfBindValue(null, "int")).toBeNull();
  });
});

describe("error converters", () => {
  it("clickhouse: server exceptions by type, network errors by errno", () => {
    const e = convertClickHouseError(Object.assign(new Error("Table default.x does not exist. "), { code: "60", type: "UNKNOWN_TABLE" }), { sql: "SELECT 1" });
    expect(e).toMatchObject({ code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT", details: { clickhouseCode: 60, clickhouseError: "UNKNOWN_TABLE", sql: "SELECT 1" } });
    expect(convertClickHouseError(Object.assign(new Error("x"), { code: "497", type: "ACCESS_DENIED" })).code).toBe("TAU_E_CONNECTOR_PERMISSION_DENIED");
    expect(convertClickHouseError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), { host: "h", port: 1 })).toMatchObject({
      code: "TAU_E_CONNECTOR_UNREACHABLE",
      details: { host: "h", port: 1 },
    });
    expect(convertClickHouseError(new Error("Timeout error.")).code).toBe("TAU_E_CONNECTOR_TIMEOUT");
  });

  it("bigquery: Google's reasons, HTTP statuses and insertAll row errors", () => {
    const api = (code: number | undefined, reason: string, message: string): Error => Object.assign(new Error(message), { code, errors: [{ reason, message }] });
    expect(convertBigQueryError(api(404, "notFound", "Not found: Table p:d.t")).code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
    expect(convertBigQueryError(api(400, "invalidQuery", "Syntax error: Unexpected identifier")).code).toBe("TAU_E_CONNECTOR_SYNTAX");
    expect(convertBigQueryError(api(400, "invalidQuery", "Unrecognized name: foo at [1:8]"))).toMatchObject({ code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT", details: { column: "foo" } });
    expect(convertBigQueryError(api(403, "accessDenied", "Access Denied")).code).toBe("TAU_E_CONNECTOR_PERMISSION_DENIED");
    expect(convertBigQueryError(api(401, "authError", "Invalid Credentials")).code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect(convertBigQueryError(api(403, "rateLimitExceeded", "Exceeded rate limits")).code).toBe("TAU_E_CONNECTOR_SERVICE_UNAVAILABLE");
    expect(convertBigQueryError(api(undefined, "jobTimeout", "Job timed out")).code).toBe("TAU_E_CONNECTOR_TIMEOUT");
    const partial = Object.assign(new Error("A failure occurred during this request."), {
      name: "PartialFailureError",
      errors: [{ row: {}, errors: [{ reason: "invalid", message: "Cannot convert value to integer." }] }],
    });
    expect(convertBigQueryError(partial)).toMatchObject({ code: "TAU_E_CONNECTOR_TYPE_MISMATCH", details: { reason: "invalid", failedRows: 1 } });
  });

  it("snowflake: error codes and messages", () => {
    const sfErr = (code: string, message: string): Error => Object.assign(new Error(message), { code, sqlState: "42000" });
    expect(convertSnowflakeError(sfErr("002003", "SQL compilation error:\nObject 'X' does not exist or not authorized.")).code).toBe("TAU_E_CONNECTOR_UNKNOWN_OBJECT");
    expect(convertSnowflakeError(sfErr("000904", "invalid identifier 'FOO'"))).toMatchObject({ code: "TAU_E_CONNECTOR_UNKNOWN_OBJECT", details: { column: "FOO" } });
    expect(convertSnowflakeError(sfErr("001003", "SQL compilation error: syntax error")).code).toBe("TAU_E_CONNECTOR_SYNTAX");
    expect(convertSnowflakeError(sfErr("390100", "Incorrect username or password was specified.")).code).toBe("TAU_E_CONNECTOR_AUTH_FAILED");
    expect(convertSnowflakeError(sfErr("003001", "Insufficient privileges")).code).toBe("TAU_E_CONNECTOR_PERMISSION_DENIED");
    expect(convertSnowflakeError(sfErr("100038", "Numeric value 'abc' is not recognized")).code).toBe("TAU_E_CONNECTOR_TYPE_MISMATCH");
    expect(convertSnowflakeError(sfErr("000630", "Statement reached its statement or warehouse timeout")).code).toBe("TAU_E_CONNECTOR_TIMEOUT");
    expect(convertSnowflakeError(Object.assign(new Error("Network error. Could not reach Snowflake."), { code: 401001 }), { host: "h", port: 443 })).toMatchObject({
      code: "TAU_E_CONNECTOR_UNREACHABLE",
      details: { host: "h", port: 443 },
    });
  });
});

describe("driver loading", () => {
  it("a missing SDK module is TAU_E_CONNECTOR_UNAVAILABLE naming the package", async () => {
    const missing = Object.assign(new Error("Cannot find module 'snowflake-sdk'"), { code: "MODULE_NOT_FOUND" });
    await expect(loadDriver("snowflake", "snowflake-sdk", () => Promise.reject(missing))).rejects.toMatchObject({
      code: "TAU_E_CONNECTOR_UNAVAILABLE",
      details: { kind: "snowflake", package: "snowflake-sdk" },
    });
  });

  it("loading the connector host does not load the ClickHouse, BigQuery or Snowflake SDKs", () => {
    const script = [
      'require("./runtime/connectors");',
      "const loaded = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](@clickhouse|@google-cloud[\\\\/]bigquery|snowflake-sdk)[\\\\/]/.test(k));",
      "process.stdout.write(JSON.stringify(loaded));",
    ].join("\n");
    const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: process.cwd(), encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});
