/**
 * Host-side connector drivers: what `connector.open` / `connector.call` reach in the executor process.
 * The sandbox creates one `ConnectorHost` per executor process and passes it to every run; drivers that share
 * process-wide resources (duckdb_local's one-instance-per-file) keep them in the host, not in module globals.
 */
import { TauError } from "../../server/contract";
import { DuckDbInstanceCache } from "./duckdb-instances";
import { DuckDbLocalDriver } from "./duckdb-local";
import { MotherDuckDriver } from "./duckdb-motherduck";
import { HttpApiDriver } from "./http-api";
import { S3Driver } from "./s3";
import { MysqlDriver } from "./mysql";
import { ClickHouseDriver } from "./clickhouse";
import { BigQueryDriver } from "./bigquery";
import { SnowflakeDriver } from "./snowflake";
import { PostgresDriver } from "./postgres";
import { RedshiftDriver } from "./redshift";
import type { ConnectorContext, ConnectorDriver, HostConnector } from "./types";

export type { ConnectorContext, ConnectorDriver, HostConnector, LoadRequest, LoadingConnector, RowCursor, RowSource, StreamingConnector } from "./types";
export { RawJson } from "./types";
export { ColumnBatch, columnSource, batchesOf, type Batch } from "./column-batch";
export { ColumnParts, mergeBatches, partsSource } from "./column-parts";
export {
  DUCKDB_LOCAL_KIND,
  DEFAULT_WAREHOUSE_FILE,
  DuckDbLocalDriver,
  DuckDbLocalConnector,
  resolveDatabasePath,
  parseTableName,
  type DuckDbLocalOptions,
  type ColumnInfo,
  type LoadMode,
} from "./duckdb-local";
export { DuckDbInstanceCache, MEMORY_DATABASE, type DuckDbLease } from "./duckdb-instances";
export { convertDuckDbError } from "./duckdb-errors";
export { MOTHERDUCK_KIND, MOTHERDUCK_HOST, MotherDuckDriver, motherDuckPath, convertMotherDuckError, type HostResolver } from "./duckdb-motherduck";
export { tauJsonConverter } from "./duckdb-values";
export * from "./rows";
export { HTTP_API_KIND, HttpApiDriver, HttpApiConnector } from "./http-api";
export { S3_KIND, S3Driver, S3Connector } from "./s3";
export { MYSQL_KIND, MysqlDriver, MysqlConnector, parseMysqlOptions } from "./mysql";
export { CLICKHOUSE_KIND, ClickHouseDriver, ClickHouseConnector } from "./clickhouse";
export { BIGQUERY_KIND, BigQueryDriver, BigQueryConnector } from "./bigquery";
export { SNOWFLAKE_KIND, SnowflakeDriver, SnowflakeConnector } from "./snowflake";
export { convertMysqlError } from "./mysql-errors";
export { POSTGRES_KIND, PostgresDriver, PgConnector } from "./postgres";
export { REDSHIFT_KIND, RedshiftDriver } from "./redshift";
export { convertPgError } from "./postgres-errors";
export { SESSION_DIALECTS, openSqlSession, returnsRows, type HostSqlSession } from "./sql-session";

export class ConnectorHost {
  private readonly drivers = new Map<string, ConnectorDriver>();
  readonly duckdbInstances: DuckDbInstanceCache;

  constructor(options: { duckdbInstances?: DuckDbInstanceCache; drivers?: ConnectorDriver[] } = {}) {
    this.duckdbInstances = options.duckdbInstances ?? new DuckDbInstanceCache();
    this.register(new DuckDbLocalDriver(this.duckdbInstances));
    this.register(new MotherDuckDriver(this.duckdbInstances));
    this.register(new HttpApiDriver());
    this.register(new S3Driver());
    this.register(new MysqlDriver());
    this.register(new PostgresDriver());
    this.register(new RedshiftDriver());
    // The cloud-warehouse SDKs load inside open(), not here.
    this.register(new ClickHouseDriver());
    this.register(new BigQueryDriver());
    this.register(new SnowflakeDriver());
    for (const d of options.drivers ?? []) this.register(d);
  }

  register(driver: ConnectorDriver): void {
    this.drivers.set(driver.kind, driver);
  }

  kinds(): string[] {
    return [...this.drivers.keys()].sort();
  }

  /** Opens a connector of `kind`; the caller has checked the tenant policy for the kind. */
  async open(kind: string, options: Record<string, unknown>, ctx: ConnectorContext): Promise<HostConnector> {
    const driver = this.drivers.get(kind);
    if (!driver) {
      throw new TauError("TAU_E_CONNECTOR_UNAVAILABLE", `No connector '${kind}' in this build of Tau (available: ${this.kinds().join(", ")}).`, {
        kind,
        available: this.kinds(),
      });
    }
    return driver.open(options, ctx);
  }

  /** Releases process-wide resources (executor shutdown). */
  close(): void {
    this.duckdbInstances.closeAll();
  }
}
