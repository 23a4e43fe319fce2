/**
 * `tau/connectors`: factories for the databases and services a pipeline reads and writes. Each returns a
 * handle at once; the connection is opened on the host on first use, and closed by `await using`.
 * One file per connector kind under ./connectors/, re-exported here.
 */
export type {
  Column,
  ExecuteResult,
  LoadMode,
  LoadOptions,
  QueryHandle,
  Row,
  RowStream,
  SqlConnector,
  SqlParam,
  StreamOptions,
} from "./sql-connector";

export { duckdb_local, type DuckDBConnector } from "./connectors/duckdb-local";
export { motherduck, type MotherDuckConnector, type MotherDuckOptions } from "./connectors/motherduck";
export {
  http_api,
  type HttpApiConnector,
  type HttpApiOptions,
  type HttpAuth,
  type HttpExtractOptions,
  type HttpMethod,
  type HttpRequestOptions,
  type HttpResponse,
  type HttpStreamOptions,
  type Pagination,
  type QueryParams,
} from "./connectors/http-api";
export {
  s3,
  type S3Connector,
  type S3CsvOptions,
  type S3Format,
  type S3Object,
  type S3Options,
  type S3ReadOptions,
  type S3StreamOptions,
  type S3WriteOptions,
  type S3WriteResult,
} from "./connectors/s3";
export { mysql, type MysqlConnector, type MysqlOptions, type MysqlSsl } from "./connectors/mysql";
export { clickhouse, type ClickHouseConnector, type ClickHouseOptions } from "./connectors/clickhouse";
export { bigquery, type BigQueryConnector, type BigQueryOptions } from "./connectors/bigquery";
export { snowflake, type SnowflakeConnector, type SnowflakeOptions } from "./connectors/snowflake";
export { postgres, type PostgresConnector, type PostgresOptions, type PostgresSsl } from "./connectors/postgres";
export { redshift, type RedshiftConnector, type RedshiftOptions } from "./connectors/redshift";
