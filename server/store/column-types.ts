/**
 * Column types that differ between the dialects. Times are epoch milliseconds (~1.7e12): past int4, so
 * PostgreSQL needs int8; sqlite's `integer` is already 64-bit, and an `integer primary key autoincrement`
 * must be declared exactly so — declaring those columns `bigint` on sqlite would change every existing
 * database's schema for nothing. Values come back as numbers on both sides (they stay far below 2^53).
 */
import { BigIntType, type EntityProperty, type Platform } from "@mikro-orm/core";
import { BaseSqlitePlatform } from "@mikro-orm/better-sqlite";

export class Int64Type extends BigIntType<"number"> {
  constructor() {
    super("number");
  }

  override getColumnType(prop: EntityProperty, platform: Platform): string {
    return platform instanceof BaseSqlitePlatform ? platform.getIntegerTypeDeclarationSQL(prop) : platform.getBigIntTypeDeclarationSQL(prop);
  }
}

/** An int8 column (int8/bigserial on PostgreSQL, integer on sqlite), read as a number. */
export const int64 = { type: Int64Type } as const;

/**
 * A JSON column: `json` on both dialects. On PostgreSQL `json` keeps the text as written (key order of a
 * run's params and result stays the author's), where `jsonb` would reorder keys; nothing queries into it.
 */
export const json = { type: "json", columnType: "json" } as const;
