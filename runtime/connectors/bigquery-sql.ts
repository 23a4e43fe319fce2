/**
 * BigQuery (GoogleSQL) statements that the `bigquery` driver generates, as pure functions (golden-tested in
 * test/runtime/warehouse-sql.test.ts). Tables are `table` (in the connector's default dataset),
 * `dataset.table` or `project.dataset.table`, quoted per part with backticks.
 *
 * Load design (shared steps in warehouse-load.ts): a staging table `dataset.__tau_stage_…` created by DDL,
 * filled with streaming inserts (`tabledata.insertAll`, 500 rows per request, each row with an insertId so
 * a retried request does not duplicate), then:
 *   - missing target: `CREATE TABLE target AS SELECT cols FROM stage`;
 *   - append: `ALTER TABLE target ADD COLUMN IF NOT EXISTS …` for new fields, `INSERT INTO target (cols) SELECT …`;
 *   - replace: `CREATE OR REPLACE TABLE target AS SELECT cols FROM stage` — one atomic statement (it keeps
 *     the columns but not partitioning/clustering options of the old table);
 *   - upsert: `MERGE INTO target AS T USING stage AS S ON T.k = S.k WHEN MATCHED THEN UPDATE … WHEN NOT
 *     MATCHED THEN INSERT …` — one atomic statement, idempotent; two staged rows with the same key make
 *     BigQuery reject the MERGE.
 */
import type { TargetColumn, TypeFamily, ValueKind } from "./warehouse-load";
import { argsInvalid, splitQualifiedName } from "./warehouse-common";

export interface BigQueryTable {
  projectId: string;
  datasetId: string;
  tableId: string;
  /** Quoted, fully qualified. */
  sql: string;
}

export function bqQuote(name: string): string {
  return "`" + name.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`";
}

export function bqTableSql(projectId: string, datasetId: string, tableId: string): string {
  return `${bqQuote(projectId)}.${bqQuote(datasetId)}.${bqQuote(tableId)}`;
}

/** `table` (default dataset), `dataset.table` or `project.dataset.table`. */
export function parseBigQueryTable(value: unknown, projectId: string, defaultDataset: string | null): BigQueryTable {
  const parts = splitQualifiedName(value, "`", 3).map((p) => p.name);
  const tableId = parts[parts.length - 1];
  const datasetId = parts.length >= 2 ? parts[parts.length - 2] : defaultDataset;
  if (datasetId === null) {
    throw argsInvalid(`Table ${JSON.stringify(value)} needs a dataset: write "dataset.table", or set the connector's dataset option.`, { table: value });
  }
  const project = parts.length === 3 ? parts[0] : projectId;
  return { projectId: project, datasetId, tableId, sql: bqTableSql(project, datasetId, tableId) };
}

const TYPE_FOR: Record<ValueKind, string> = {
  bool: "BOOL",
  int: "INT64",
  float: "FLOAT64",
  date: "DATE",
  timestamp: "TIMESTAMP",
  string: "STRING",
  json: "JSON",
};

export function bqTypeFor(kind: ValueKind): { type: string; family: TypeFamily } {
  return { type: TYPE_FOR[kind], family: kind };
}

/** The family of a BigQuery type as tables.get reports it (legacy names INTEGER/FLOAT/BOOLEAN included). */
export function bqFamily(type: string): TypeFamily {
  switch (type.toUpperCase()) {
    case "INT64":
    case "INTEGER":
      return "int";
    case "FLOAT64":
    case "FLOAT":
    case "NUMERIC":
    case "BIGNUMERIC":
    case "DECIMAL":
    case "BIGDECIMAL":
      return "float";
    case "STRING":
      return "string";
    case "BOOL":
    case "BOOLEAN":
      return "bool";
    case "DATE":
      return "date";
    case "TIMESTAMP":
    case "DATETIME":
      return "timestamp";
    case "JSON":
      return "json";
    default:
      return "other";
  }
}

function list(columns: readonly (TargetColumn | string)[], prefix = ""): string {
  return columns.map((c) => prefix + bqQuote(typeof c === "string" ? c : c.name)).join(", ");
}

export const bigquerySql = {
  createTable: (t: string, columns: readonly TargetColumn[]): string =>
    `CREATE TABLE ${t} (${columns.map((c) => `${bqQuote(c.name)} ${c.type}`).join(", ")})`,
  addColumns: (t: string, columns: readonly TargetColumn[]): string =>
    `ALTER TABLE ${t} ${columns.map((c) => `ADD COLUMN IF NOT EXISTS ${bqQuote(c.name)} ${c.type}`).join(", ")}`,
  createAsSelect: (t: string, stage: string, columns: readonly TargetColumn[], replace: boolean): string =>
    `CREATE ${replace ? "OR REPLACE " : ""}TABLE ${t} AS SELECT ${list(columns)} FROM ${stage}`,
  insertSelect: (t: string, stage: string, columns: readonly TargetColumn[]): string =>
    `INSERT INTO ${t} (${list(columns)}) SELECT ${list(columns)} FROM ${stage}`,
  merge: (t: string, stage: string, columns: readonly TargetColumn[], keys: readonly string[]): string => {
    const on = keys.map((k) => `T.${bqQuote(k)} = S.${bqQuote(k)}`).join(" AND ");
    const rest = columns.filter((c) => !keys.includes(c.name));
    const update = rest.length > 0 ? ` WHEN MATCHED THEN UPDATE SET ${rest.map((c) => `${bqQuote(c.name)} = S.${bqQuote(c.name)}`).join(", ")}` : "";
    return `MERGE INTO ${t} AS T USING ${stage} AS S ON ${on}${update} WHEN NOT MATCHED THEN INSERT (${list(columns)}) VALUES (${list(columns, "S.")})`;
  },
  truncate: (t: string): string => `TRUNCATE TABLE ${t}`,
  drop: (t: string): string => `DROP TABLE IF EXISTS ${t}`,
};

/** BigQuery's type name for a query parameter (the SDK needs one for nulls). */
export function bqParamType(value: unknown): string {
  if (typeof value === "boolean") return "BOOL";
  if (typeof value === "number") return Number.isSafeInteger(value) ? "INT64" : "FLOAT64";
  return "STRING";
}

/** A row value in the form insertAll takes for a column of `family`. */
export function bqInsertValue(value: unknown, family: TypeFamily): unknown {
  if (value === null || value === undefined) return null;
  if (family === "json") return typeof value === "string" ? value : JSON.stringify(value);
  if (family === "string") return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  return value;
}

export interface BqField {
  name: string;
  type: string;
  mode?: string;
  fields?: BqField[];
}

/**
 * One cell of a getQueryResults row (`{v}`, values as strings) → Tau's JSON: INT64 → number when safe else
 * string; FLOAT64/NUMERIC → number; BOOL → boolean; TIMESTAMP (microseconds since the epoch, as the client
 * asks with useInt64Timestamp) → ISO-8601 UTC; JSON → parsed; RECORD → object; REPEATED → array.
 */
export function bqReadValue(v: unknown, field: BqField): unknown {
  if (v === null || v === undefined) return null;
  if (field.mode === "REPEATED") {
    return (v as { v: unknown }[]).map((item) => bqReadValue(item.v, { ...field, mode: "NULLABLE" }));
  }
  const type = field.type.toUpperCase();
  if (type === "RECORD" || type === "STRUCT") {
    const cells = (v as { f: { v: unknown }[] }).f;
    const out: Record<string, unknown> = {};
    (field.fields ?? []).forEach((f, i) => {
      out[f.name] = bqReadValue(cells[i]?.v, f);
    });
    return out;
  }
  const text = String(v);
  switch (type) {
    case "INT64":
    case "INTEGER": {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case "FLOAT64":
    case "FLOAT":
    case "NUMERIC":
    case "BIGNUMERIC":
      return Number(text);
    case "BOOL":
    case "BOOLEAN":
      return text === "true";
    case "TIMESTAMP":
      return microsToIso(text);
    case "JSON":
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

function microsToIso(text: string): string {
  if (!/^-?\d+$/.test(text)) return text;
  const micros = BigInt(text);
  let millis = micros / 1000n;
  let sub = micros % 1000n;
  if (sub < 0n) {
    sub += 1000n;
    millis -= 1n;
  }
  const iso = new Date(Number(millis)).toISOString();
  return sub === 0n ? iso : `${iso.slice(0, -1)}${sub.toString().padStart(3, "0")}Z`;
}
