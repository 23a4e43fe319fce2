/**
 * Values between DuckDB and the pipeline's JSON. Reading: BIGINT-family → number when it is a safe integer,
 * else a decimal string; DECIMAL → number; DATE → "YYYY-MM-DD"; TIMESTAMP/TIMESTAMPTZ → ISO-8601 UTC with
 * the source precision ("2024-01-02T03:04:05.123456Z"); JSON columns → their parsed value. Writing (load):
 * values are staged by their logical type (rows.ts infers it; duckdb-vectors.ts writes them) and cast by DuckDB
 * into the table's types.
 */
import {
  DuckDBTypeId,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBIntervalValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  JsonDuckDBValueConverter,
  arrayFromArrayValue,
  arrayFromListValue,
  createDuckDBValueConverter,
  objectArrayFromMapValue,
  objectFromStructValue,
  objectFromUnionValue,
  type DuckDBDataChunk,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBValueConverter,
} from "@duckdb/node-api";
import type { LogicalType } from "./rows";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
// JS Date's range: ±8.64e15 ms.
const MAX_DATE_MICROS = 8_640_000_000_000_000_000n;

function integerToJson(value: DuckDBValue): JsonValue {
  if (typeof value === "bigint") return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value.toString();
  if (typeof value === "number") return value;
  return String(value);
}

function microsToIso(micros: bigint, fallback: string): string {
  if (micros > MAX_DATE_MICROS || micros < -MAX_DATE_MICROS) return fallback;
  let millis = micros / 1000n;
  let sub = micros % 1000n;
  if (sub < 0n) {
    sub += 1000n;
    millis -= 1n;
  }
  const iso = new Date(Number(millis)).toISOString();
  return sub === 0n ? iso : `${iso.slice(0, -1)}${sub.toString().padStart(3, "0")}Z`;
}

function timestampToJson(value: DuckDBValue): JsonValue {
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) {
    return value.isFinite ? microsToIso(value.micros, value.toString()) : value.toString();
  }
  if (value instanceof DuckDBTimestampSecondsValue) return microsToIso(value.seconds * 1_000_000n, value.toString());
  if (value instanceof DuckDBTimestampMillisecondsValue) return microsToIso(value.millis * 1000n, value.toString());
  if (value instanceof DuckDBTimestampNanosecondsValue) return microsToIso(value.nanos / 1000n, value.toString());
  return String(value);
}

function dateToJson(value: DuckDBValue): JsonValue {
  return value instanceof DuckDBDateValue ? value.toString() : String(value);
}

function decimalToJson(value: DuckDBValue): JsonValue {
  if (value instanceof DuckDBDecimalValue) return value.toDouble();
  return typeof value === "number" ? value : String(value);
}

function intervalToJson(value: DuckDBValue): JsonValue {
  if (value instanceof DuckDBIntervalValue) {
    return { months: value.months, days: value.days, micros: integerToJson(value.micros) };
  }
  return String(value);
}

function varcharToJson(value: DuckDBValue, type: DuckDBType): JsonValue {
  const text = String(value);
  if (type.alias === "JSON") {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      return text;
    }
  }
  return text;
}

const fallback = JsonDuckDBValueConverter as DuckDBValueConverter<JsonValue>;
const passthrough: DuckDBValueConverter<JsonValue> = (value, type, converter) => fallback(value, type, converter);

/** DuckDB value → JSON value, per column type (see the file comment). */
export const tauJsonConverter: DuckDBValueConverter<JsonValue> = createDuckDBValueConverter<JsonValue>({
  [DuckDBTypeId.INVALID]: passthrough,
  [DuckDBTypeId.BOOLEAN]: passthrough,
  [DuckDBTypeId.TINYINT]: passthrough,
  [DuckDBTypeId.SMALLINT]: passthrough,
  [DuckDBTypeId.INTEGER]: passthrough,
  [DuckDBTypeId.BIGINT]: integerToJson,
  [DuckDBTypeId.UTINYINT]: passthrough,
  [DuckDBTypeId.USMALLINT]: passthrough,
  [DuckDBTypeId.UINTEGER]: passthrough,
  [DuckDBTypeId.UBIGINT]: integerToJson,
  [DuckDBTypeId.FLOAT]: passthrough,
  [DuckDBTypeId.DOUBLE]: passthrough,
  [DuckDBTypeId.TIMESTAMP]: timestampToJson,
  [DuckDBTypeId.DATE]: dateToJson,
  [DuckDBTypeId.TIME]: passthrough,
  [DuckDBTypeId.INTERVAL]: intervalToJson,
  [DuckDBTypeId.HUGEINT]: integerToJson,
  [DuckDBTypeId.UHUGEINT]: integerToJson,
  [DuckDBTypeId.VARCHAR]: varcharToJson,
  [DuckDBTypeId.BLOB]: passthrough,
  [DuckDBTypeId.DECIMAL]: decimalToJson,
  [DuckDBTypeId.TIMESTAMP_S]: timestampToJson,
  [DuckDBTypeId.TIMESTAMP_MS]: timestampToJson,
  [DuckDBTypeId.TIMESTAMP_NS]: timestampToJson,
  [DuckDBTypeId.ENUM]: passthrough,
  [DuckDBTypeId.LIST]: arrayFromListValue,
  [DuckDBTypeId.STRUCT]: objectFromStructValue as DuckDBValueConverter<JsonValue>,
  [DuckDBTypeId.MAP]: objectArrayFromMapValue as DuckDBValueConverter<JsonValue>,
  [DuckDBTypeId.ARRAY]: arrayFromArrayValue,
  [DuckDBTypeId.UUID]: passthrough,
  [DuckDBTypeId.UNION]: objectFromUnionValue as DuckDBValueConverter<JsonValue>,
  [DuckDBTypeId.BIT]: passthrough,
  [DuckDBTypeId.TIME_TZ]: passthrough,
  [DuckDBTypeId.TIMESTAMP_TZ]: timestampToJson,
  [DuckDBTypeId.ANY]: passthrough,
  [DuckDBTypeId.BIGNUM]: integerToJson,
  [DuckDBTypeId.SQLNULL]: passthrough,
  [DuckDBTypeId.STRING_LITERAL]: passthrough,
  [DuckDBTypeId.INTEGER_LITERAL]: passthrough,
  [DuckDBTypeId.TIME_NS]: passthrough,
  [DuckDBTypeId.GEOMETRY]: passthrough,
  [DuckDBTypeId.VARIANT]: passthrough,
});

// ── load: staging values for the appender ───────────────────────────────────────────────────────────

/** The type of the staging column the appender fills; the final INSERT casts it to the table's type. */
export type StageType = "BOOLEAN" | "BIGINT" | "DOUBLE" | "VARCHAR";

/** How each logical type is staged: numbers and booleans natively, everything else as text DuckDB casts. */
export function stageTypeFor(type: LogicalType): StageType {
  switch (type) {
    case "boolean":
      return "BOOLEAN";
    case "integer":
    case "bigint":
      return "BIGINT";
    case "double":
      return "DOUBLE";
    default:
      return "VARCHAR";
  }
}

// ── reading: a result chunk as row objects ──────────────────────────────────────────────────────────

/** The rows of one result chunk as plain JSON objects (same conversions as extract). */
export function chunkToObjects(chunk: DuckDBDataChunk, names: readonly string[], types: readonly DuckDBType[]): Record<string, JsonValue>[] {
  return chunk.getRows().map((values) => {
    const o: Record<string, JsonValue> = {};
    for (let i = 0; i < names.length; i++) {
      const v = values[i];
      o[names[i]] = v === null ? null : tauJsonConverter(v, types[i], tauJsonConverter);
    }
    return o;
  });
}
