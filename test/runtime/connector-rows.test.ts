import { describe, expect, it } from "vitest";
import {
  ColumnInference,
  DUCKDB_TYPES,
  MYSQL_TYPES,
  POSTGRES_TYPES,
  checkMergeKey,
  findTypeConflict,
  inferColumns,
  logicalTypeOf,
  newColumns,
  parseLoadRequest,
  valueFits,
} from "../../runtime/connectors/rows";

const MODES = ["append", "replace", "upsert"] as const;

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe("dialect-neutral row typing", () => {
  it("infers logical types from JSON values, and every dialect has a SQL type for each", () => {
    const cols = inferColumns([
      { b: true, i: 1, f: 1.5, s: "x", d: "2024-01-02", ts: "2024-01-02 03:04:05", tz: "2024-01-02T03:04:05Z", j: { a: 1 }, n: null, mixed: 1 },
      { i: 2, mixed: "two", d: "2024-01-03", f: 2 },
    ]);
    expect(cols).toEqual([
      { name: "b", type: "boolean" },
      { name: "i", type: "bigint" },
      { name: "f", type: "double" },
      { name: "s", type: "text" },
      { name: "d", type: "date" },
      { name: "ts", type: "timestamp" },
      { name: "tz", type: "timestamptz" },
      { name: "j", type: "json" },
      { name: "n", type: "text" },
      { name: "mixed", type: "text" },
    ]);
    for (const map of [DUCKDB_TYPES, POSTGRES_TYPES, MYSQL_TYPES]) for (const c of cols) expect(map[c.type]).toBeTruthy();
  });

  it("an inference fed batch by batch widens a column as later batches show other values", () => {
    const inference = new ColumnInference().observe([{ v: 1 }]);
    expect(inference.columns()).toEqual([{ name: "v", type: "bigint" }]);
    inference.observe([{ v: 1.5, w: "2024-01-01" }]);
    expect(inference.columns()).toEqual([
      { name: "v", type: "double" },
      { name: "w", type: "date" },
    ]);
  });

  it("reads the logical type of the common column type names of each database", () => {
    const cases: Record<string, string | null> = {
      INTEGER: "integer", int4: "integer", "TINYINT(1)": "boolean", BIGINT: "bigint", "bigint unsigned": "bigint", "DECIMAL(10,2)": "double",
      "double precision": "double", "character varying(20)": "text", "VARCHAR(255)": "text", DATE: "date", "timestamp without time zone": "timestamp",
      "TIMESTAMP WITH TIME ZONE": "timestamptz", TIMESTAMPTZ: "timestamptz", DATETIME: "timestamp", jsonb: "json", JSON: "json", BLOB: null, "INTEGER[]": null,
    };
    for (const [sqlType, logical] of Object.entries(cases)) expect([sqlType, logicalTypeOf(sqlType)]).toEqual([sqlType, logical]);
  });
});

describe("load requests and schema checks", () => {
  it("parses load options: mergeKey as a string or list for upsert only, unknown options and modes refused", () => {
    expect(parseLoadRequest({ table: "t" }, MODES)).toEqual({ table: "t", mode: "append", mergeKey: null });
    expect(parseLoadRequest({ table: "t", mode: "upsert", mergeKey: "id" }, MODES)).toEqual({ table: "t", mode: "upsert", mergeKey: ["id"] });
    expect(parseLoadRequest({ table: "t", mode: "upsert", mergeKey: ["a", "b", "a"] }, MODES).mergeKey).toEqual(["a", "b"]);
    for (const bad of [
      { table: "t", mode: "upsert" },
      { table: "t", mode: "upsert", mergeKey: [] },
      { table: "t", mode: "upsert", mergeKey: [1] },
      { table: "t", mode: "append", mergeKey: "id" },
      { table: "t", mode: "merge" },
      { table: "", mode: "append" },
      { table: "t", format: "csv" },
    ]) {
      expect(codeOf(() => parseLoadRequest(bad, MODES))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    }
    expect(codeOf(() => parseLoadRequest({ table: "t", mode: "upsert", mergeKey: "id" }, ["append", "replace"]))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
  });

  it("a mergeKey must be among the rows' columns; new columns are those the table lacks, matched ignoring case", () => {
    const cols = inferColumns([{ ID: 1, name: "x", extra: true }]);
    expect(codeOf(() => checkMergeKey({ table: "t", mode: "upsert", mergeKey: ["id"] }, cols))).toBe("ok");
    expect(codeOf(() => checkMergeKey({ table: "t", mode: "upsert", mergeKey: ["tenant"] }, cols))).toBe("TAU_E_CONNECTOR_ARGS_INVALID");
    expect(newColumns(cols, [{ name: "id" }, { name: "NAME" }])).toEqual([{ name: "extra", type: "boolean" }]);
  });

  it("a type conflict names the column, its type, the row and the value; values that fit are let through", () => {
    const rows = [{ n: "12", d: "2024-01-01" }, { n: "x12", d: "2024-01-01T00:00:00" }];
    const existing = [
      { name: "n", sqlType: "INTEGER", type: "integer" as const },
      { name: "d", sqlType: "TIMESTAMP", type: "timestamp" as const },
    ];
    const err = findTypeConflict(rows, inferColumns(rows), existing, "t", 100);
    expect(err).toMatchObject({ code: "TAU_E_CONNECTOR_TYPE_MISMATCH", details: { column: "n", columnType: "INTEGER", row: 101, table: "t" } });
    expect(err?.message).toContain('"x12"');
    expect(findTypeConflict([rows[0]], inferColumns([rows[0]]), existing, "t")).toBeNull();
    expect([valueFits(2 ** 31, "integer"), valueFits("9223372036854775808", "bigint"), valueFits("1e3", "double"), valueFits({ a: 1 }, "text")]).toEqual([false, false, true, true]);
  });
});
