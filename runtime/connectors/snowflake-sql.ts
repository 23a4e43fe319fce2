/**
 * Snowflake SQL that the `snowflake` driver generates, as pure functions (golden-tested in
 * test/runtime/warehouse-sql.test.ts). Names follow Snowflake's folding: a plain name (`orders`, `id`) is
 * written bare, so Snowflake stores it upper case as if the pipeline had written it in SQL; other names are
 * double-quoted and keep their case. Row fields map onto columns the same way (`id` → `ID`).
 *
 * Load design (shared steps in warehouse-load.ts): a TEMPORARY staging table (VARIANT columns staged as
 * VARCHAR and turned back with PARSE_JSON), filled with array-bound `INSERT … VALUES (?, …)` requests of at
 * most 60,000 values and 8 MiB each (under the client's arrayBindingThreshold, so it never tries a PUT to an
 * internal stage), then:
 *   - missing target: `CREATE TABLE target AS SELECT … FROM stage`;
 *   - append: `ALTER TABLE target ADD COLUMN IF NOT EXISTS …` per new field, `INSERT INTO target (…) SELECT …`;
 *   - replace: `CREATE OR REPLACE TABLE new AS SELECT … FROM stage`, `ALTER TABLE target SWAP WITH new`,
 *     `DROP TABLE new` — the swap is atomic, readers see the old rows or the new ones;
 *   - upsert: one `MERGE INTO target USING (SELECT … FROM stage) …` — atomic and idempotent.
 */
import type { TargetColumn, TypeFamily, ValueKind } from "./warehouse-load";
import { splitQualifiedName } from "./warehouse-common";

export interface SnowflakeTable {
  /** The parts as written (bare or quoted), for SQL. */
  sql: string;
  /** SQL of a sibling table `name` in the same database/schema. */
  sibling(name: string): string;
}

const BARE = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const BARE_UPPER = /^[A-Z_][A-Z0-9_$]*$/;

// Snowflake's reserved keywords: a column named ORDER must be quoted even though it is upper case.
const RESERVED = new Set(
  ("ACCOUNT ALL ALTER AND ANY AS BETWEEN BY CASE CAST CHECK COLUMN CONNECT CONNECTION CONSTRAINT CREATE CROSS CURRENT " +
    "CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER DATABASE DELETE DISTINCT DROP ELSE EXISTS FALSE FOLLOWING FOR " +
    "FROM FULL GRANT GROUP GSCLUSTER HAVING ILIKE IN INCREMENT INNER INSERT INTERSECT INTO IS ISSUE JOIN LATERAL LEFT LIKE " +
    "LOCALTIME LOCALTIMESTAMP MINUS NATURAL NOT NULL OF ON OR ORDER ORGANIZATION QUALIFY REGEXP REVOKE RIGHT RLIKE ROW ROWS " +
    "SAMPLE SCHEMA SELECT SET SOME START TABLE TABLESAMPLE THEN TO TRIGGER TRUE TRY_CAST UNION UNIQUE UPDATE USING VALUES " +
    "VIEW WHEN WHENEVER WHERE WITH").split(" "),
);

/** An identifier as SQL: bare when Snowflake would store it exactly so (upper case, not reserved), else quoted. */
export function sfIdent(name: string): string {
  return BARE_UPPER.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** How a row field or a bare name folds onto a Snowflake column name. */
export function sfColumnKey(name: string): string {
  return BARE.test(name) ? name.toUpperCase() : name;
}

/** `table`, `schema.table` or `database.schema.table`; bare parts fold to upper case, "quoted" parts keep case. */
export function parseSnowflakeTable(value: unknown): SnowflakeTable {
  const parts = splitQualifiedName(value, '"', 3).map((p) => (p.quoted ? p.name : p.name.toUpperCase()));
  const prefix = parts.slice(0, -1).map(sfIdent);
  const join = (name: string): string => [...prefix, sfIdent(name)].join(".");
  return { sql: join(parts[parts.length - 1]), sibling: join };
}

const TYPE_FOR: Record<ValueKind, string> = {
  bool: "BOOLEAN",
  int: "NUMBER(38,0)",
  float: "FLOAT",
  date: "DATE",
  timestamp: "TIMESTAMP_TZ",
  string: "VARCHAR",
  json: "VARIANT",
};

export function sfTypeFor(kind: ValueKind): { type: string; family: TypeFamily } {
  return { type: TYPE_FOR[kind], family: kind };
}

/** The family of a type as DESCRIBE TABLE reports it (`NUMBER(38,0)`, `VARCHAR(16777216)`, `TIMESTAMP_TZ(9)`, …). */
export function sfFamily(type: string): TypeFamily {
  const t = type.toUpperCase().trim();
  const num = /^(?:NUMBER|NUMERIC|DECIMAL)\((\d+),\s*(\d+)\)$/.exec(t);
  if (num) return num[2] === "0" ? "int" : "float";
  if (/^(NUMBER|INT|INTEGER|BIGINT|SMALLINT|TINYINT|BYTEINT)$/.test(t)) return "int";
  if (/^(FLOAT\d?|DOUBLE( PRECISION)?|REAL|DECIMAL|NUMERIC)$/.test(t)) return "float";
  if (/^(VARCHAR|TEXT|STRING|CHAR|CHARACTER|NCHAR|NVARCHAR)(\(\d+\))?$/.test(t)) return "string";
  if (t === "BOOLEAN") return "bool";
  if (t === "DATE") return "date";
  if (/^(TIMESTAMP|DATETIME)(_(TZ|LTZ|NTZ))?(\(\d\))?$/.test(t)) return "timestamp";
  if (/^(VARIANT|OBJECT|ARRAY)(\(.*\))?$/.test(t)) return "json";
  return "other";
}

/** The staging column type: VARIANT-like columns are staged as text (array binds carry text). */
function stageType(c: TargetColumn): string {
  return c.family === "json" ? "VARCHAR" : c.type;
}

/** A staged column read back in its target form. */
function fromStage(c: TargetColumn, alias = ""): string {
  const col = alias + sfIdent(c.name);
  return c.family === "json" ? `PARSE_JSON(${col})` : col;
}

function list(columns: readonly (TargetColumn | string)[], prefix = ""): string {
  return columns.map((c) => prefix + sfIdent(typeof c === "string" ? c : c.name)).join(", ");
}

function selectFromStage(stage: string, columns: readonly TargetColumn[]): string {
  return `SELECT ${columns.map((c) => (c.family === "json" ? `${fromStage(c)} AS ${sfIdent(c.name)}` : sfIdent(c.name))).join(", ")} FROM ${stage}`;
}

export const snowflakeSql = {
  describe: (t: string): string => `DESCRIBE TABLE ${t}`,
  createStage: (t: string, columns: readonly TargetColumn[]): string =>
    `CREATE TEMPORARY TABLE ${t} (${columns.map((c) => `${sfIdent(c.name)} ${stageType(c)}`).join(", ")})`,
  addStageColumn: (t: string, c: TargetColumn): string => `ALTER TABLE ${t} ADD COLUMN ${sfIdent(c.name)} ${stageType(c)}`,
  addColumn: (t: string, c: TargetColumn): string => `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ${sfIdent(c.name)} ${c.type}`,
  insertBound: (t: string, columns: readonly TargetColumn[]): string =>
    `INSERT INTO ${t} (${list(columns)}) VALUES (${columns.map(() => "?").join(", ")})`,
  createAsSelect: (t: string, stage: string, columns: readonly TargetColumn[], orReplace: boolean): string =>
    `CREATE ${orReplace ? "OR REPLACE " : ""}TABLE ${t} AS ${selectFromStage(stage, columns)}`,
  insertSelect: (t: string, stage: string, columns: readonly TargetColumn[]): string =>
    `INSERT INTO ${t} (${list(columns)}) ${selectFromStage(stage, columns)}`,
  swap: (a: string, b: string): string => `ALTER TABLE ${a} SWAP WITH ${b}`,
  merge: (t: string, stage: string, columns: readonly TargetColumn[], keys: readonly string[]): string => {
    const on = keys.map((k) => `T.${sfIdent(k)} = S.${sfIdent(k)}`).join(" AND ");
    const rest = columns.filter((c) => !keys.includes(c.name));
    const update = rest.length > 0 ? ` WHEN MATCHED THEN UPDATE SET ${rest.map((c) => `${sfIdent(c.name)} = S.${sfIdent(c.name)}`).join(", ")}` : "";
    return `MERGE INTO ${t} AS T USING (${selectFromStage(stage, columns)}) AS S ON ${on}${update} WHEN NOT MATCHED THEN INSERT (${list(columns)}) VALUES (${list(columns, "S.")})`;
  },
  truncate: (t: string): string => `TRUNCATE TABLE ${t}`,
  drop: (t: string): string => `DROP TABLE IF EXISTS ${t}`,
};

/** Values per array-bound INSERT (the client's arrayBindingThreshold is 65,280) and bytes per request. */
export const SNOWFLAKE_BIND_VALUES = 60_000;
export const SNOWFLAKE_BIND_BYTES = 8 * 1024 * 1024;

/** A row value as bound text (every bind is TEXT; Snowflake casts it to the column's type). */
export function sfBindValue(value: unknown, family: TypeFamily): string | null {
  if (value === null || value === undefined) return null;
  if (family === "json") return JSON.stringify(value);
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * A value as the Snowflake client returned it → Tau's JSON: bigint (the driver asks for them) → number when
 * safe else decimal text; DATE → "YYYY-MM-DD"; TIMESTAMP_* → ISO-8601 UTC with microseconds when present;
 * VARIANT stays parsed.
 */
export function sfReadValue(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  // With JS_TREAT_INTEGER_AS_BIGINT the client returns integers as `big-integer` objects.
  if (type === "fixed" && typeof value === "object" && typeof (value as { toJSNumber?: unknown }).toJSNumber === "function") {
    const text = String(value);
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (value instanceof Date) {
    const d = value as Date & { getEpochSeconds?: () => number; getNanoSeconds?: () => number };
    if (type === "date") return new Date(d.getTime()).toISOString().slice(0, 10);
    if (d.getEpochSeconds && d.getNanoSeconds) {
      const iso = new Date(d.getEpochSeconds() * 1000).toISOString().slice(0, 19);
      const nanos = d.getNanoSeconds();
      const micros = Math.floor(nanos / 1000);
      const frac = micros % 1000 === 0 ? String(micros / 1000).padStart(3, "0") : String(micros).padStart(6, "0");
      return `${iso}.${frac}Z`;
    }
    return d.toISOString();
  }
  return value;
}
