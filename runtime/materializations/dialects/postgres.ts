/**
 * PostgreSQL: transactional DDL (the whole run is one transaction, so a failure leaves the target as it was),
 * MERGE (15+), a transaction-scoped advisory lock per target, and key matches a hash join can drive.
 */
import { AnsiDialect, type LockSteps } from "../dialect";
import { ddl, type RelationInfo, type Step } from "../plan";
import { displayName, type Relation } from "../relation";

export class PostgresDialect extends AnsiDialect {
  readonly name: "postgres" | "redshift" = "postgres";

  protected schemaExpr(relation: Relation): string {
    return relation.schema === null ? "current_schema()" : this.str(relation.schema);
  }

  override match(pairs: readonly (readonly [string, string])[]): string {
    // `IS NOT DISTINCT FROM` cannot drive a hash join (a 10k-row SCD rerun took 14 s as a nested loop); the
    // equality of injective text encodings can, and NULL still matches NULL.
    return `${this.encode(pairs.map(([a]) => a))} = ${this.encode(pairs.map(([, b]) => b))}`;
  }

  describe(relation: Relation): string {
    return (
      `SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type\n` +
      `FROM pg_catalog.pg_class c\nJOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n` +
      `LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped\n` +
      `WHERE n.nspname = ${this.schemaExpr(relation)} AND c.relname = ${this.str(relation.name)} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')\n` +
      `ORDER BY a.attnum`
    );
  }

  override lock(target: Relation, waitSeconds: number): LockSteps {
    // Released by COMMIT/ROLLBACK, so a crashed run cannot leave it held. One key per table whether the config
    // wrote `schema.t` or `t` (the current schema is filled in). lock_timeout (for this transaction only) also
    // bounds the run's waits on table locks, e.g. behind a long query on the target during the swap.
    const key = `'tau:materialize:' || ${this.schemaExpr(target)} || '.' || ${this.str(target.name)}`;
    return {
      acquire: [
        { sql: `SET LOCAL lock_timeout = '${Math.max(1, Math.round(waitSeconds))}s'`, kind: "ddl" },
        {
          sql: `SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`,
          kind: "query",
          failsAs: {
            code: "TAU_E_MATERIALIZE_LOCKED",
            message: `Another run held ${displayName(target)} for more than ${waitSeconds} s.`,
            detailsKey: "lock",
          },
        },
      ],
      release: [],
    };
  }

  override createView(target: Relation, info: RelationInfo | null, select: string): Step[] {
    // CREATE OR REPLACE VIEW refuses to drop or retype columns; drop and create inside the run's transaction
    // instead (readers wait, never see it missing). No CASCADE: dependent views make this fail, not vanish.
    const steps: Step[] = [];
    if (info) steps.push(ddl(`DROP ${info.kind === "view" ? "VIEW" : "TABLE"} ${this.rel(target)}`));
    steps.push(ddl(`CREATE VIEW ${this.rel(target)} AS\n${select}`));
    return steps;
  }

  override alterColumnType(relation: Relation, column: { name: string; type: string }): string {
    return (
      `ALTER TABLE ${this.rel(relation)} ALTER COLUMN ${this.quote(column.name)} TYPE ${column.type} ` +
      `USING CAST(${this.quote(column.name)} AS ${column.type})`
    );
  }
}
