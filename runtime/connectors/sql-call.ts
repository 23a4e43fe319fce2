/**
 * The `call` dispatch every SQL host connector shares (postgres, redshift, mysql, clickhouse, bigquery,
 * snowflake): statements go through the connector's serialiser; `load` with plain rows serves direct host
 * callers (the bridge sends a LoadingConnector's loads and cursor.* through loadFrom/openCursor itself).
 */
import { TauError } from "../../server/contract";
import { oneBatch, parseLoadRequest, parseRows, type LoadMode } from "./rows";
import type { LoadRequest, RowSource } from "./types";

export interface SqlMethods {
  readonly kind: string;
  extract(sql: unknown, params: unknown): Promise<unknown>;
  execute(sql: unknown, params: unknown): Promise<unknown>;
  getSchema(table: unknown): Promise<unknown>;
  loadFrom(source: RowSource, request: LoadRequest): Promise<number>;
}

export function callSqlConnector(
  c: SqlMethods,
  serial: <T>(fn: () => Promise<T>) => Promise<T>,
  loadModes: readonly LoadMode[],
  method: string,
  args: unknown[],
): Promise<unknown> {
  switch (method) {
    case "extract":
      return serial(() => c.extract(args[0], args[1]));
    case "execute":
      return serial(() => c.execute(args[0], args[1]));
    case "getSchema":
      return serial(() => c.getSchema(args[0]));
    case "load":
      try {
        return c.loadFrom(oneBatch(parseRows(args[0])), parseLoadRequest(args[1], loadModes, c.kind));
      } catch (err) {
        return Promise.reject(err);
      }
    default:
      return Promise.reject(
        new TauError(
          "TAU_E_CONNECTOR_ARGS_INVALID",
          `${c.kind} has no method '${method}' (methods: extract, load, execute, getSchema; stream goes through cursor.*).`,
          { method },
        ),
      );
  }
}
