/** The dialect object for each `Dialect` name. */
import type { Dialect } from "../../sdk/materializations/spec";
import type { SqlDialect } from "../dialect";
import { BigQueryDialect } from "./bigquery";
import { ClickHouseDialect } from "./clickhouse";
import { DuckDbDialect } from "./duckdb";
import { MysqlDialect } from "./mysql";
import { PostgresDialect } from "./postgres";
import { RedshiftDialect } from "./redshift";
import { SnowflakeDialect } from "./snowflake";

const DIALECTS: Record<Dialect, SqlDialect> = {
  postgres: new PostgresDialect(),
  redshift: new RedshiftDialect(),
  duckdb: new DuckDbDialect(),
  mysql: new MysqlDialect(),
  bigquery: new BigQueryDialect(),
  snowflake: new SnowflakeDialect(),
  clickhouse: new ClickHouseDialect(),
};

export function dialectFor(name: Dialect): SqlDialect | undefined {
  return Object.prototype.hasOwnProperty.call(DIALECTS, name) ? DIALECTS[name] : undefined;
}

export { BigQueryDialect, ClickHouseDialect, DuckDbDialect, MysqlDialect, PostgresDialect, RedshiftDialect, SnowflakeDialect };
