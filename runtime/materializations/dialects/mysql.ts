/**
 * MySQL / MariaDB: DDL commits implicitly, so DML runs in its own transactions between DDL; no MERGE (a
 * multi-table UPDATE … JOIN plus INSERT … WHERE NOT EXISTS instead: ON DUPLICATE KEY UPDATE would need a unique
 * index on exactly the key, which a table built by CREATE TABLE … AS does not have); `<=>` for NULL-safe
 * equality; GET_LOCK for one run per target; RENAME TABLE swaps atomically.
 *
 * MariaDB joins tables without a usable index by nested loops (no hash join by default), so a 10k-row SCD run
 * took minutes. Every match is therefore made a lookup into an index on the staging table, which Tau creates:
 * the target (which has no index Tau knows of) is only ever scanned once, never probed.
 */
import type { PartitionGranularity } from "../../sdk/materializations/spec";
import { AnsiDialect, S, T, utcWallClock, type LockSteps, type MergeInput } from "../dialect";
import { check, ddl, dml, type Column, type RelationInfo, type Step } from "../plan";
import { displayName, type Relation } from "../relation";

/** InnoDB's limit on an index's key, in bytes; string columns are indexed on a prefix to stay under it. */
const INDEX_KEY_BYTES = 3072;
const INDEX_PREFIX_CHARS = 100;
const INDEX_MAX_COLUMNS = 16;

const FORMATS: Record<PartitionGranularity, string> = {
  hour: "%Y-%m-%d %H:00:00",
  day: "%Y-%m-%d",
  month: "%Y-%m-01",
  year: "%Y-01-01",
};

export class MysqlDialect extends AnsiDialect {
  readonly name = "mysql" as const;
  override readonly transactionalDdl: boolean = false;
  override readonly transaction = { begin: "START TRANSACTION", commit: "COMMIT", rollback: "ROLLBACK" };
  protected override readonly timestampType: string = "DATETIME(6)";
  protected override readonly textType: string = "CHAR";

  override quote(identifier: string): string {
    return "`" + identifier.replace(/`/g, "``") + "`";
  }

  override fold(column: string): string {
    return column.toLowerCase();
  }

  override str(value: string): string {
    // Backslash is an escape under the default sql_mode; doubling it is also harmless under NO_BACKSLASH_ESCAPES.
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
  }

  override ts(value: Date): string {
    return `CAST('${utcWallClock(value)}' AS DATETIME(6))`;
  }

  override castStr(expr: string): string {
    return `CAST(${expr} AS CHAR(255))`;
  }

  override nullSafeEq(a: string, b: string): string {
    return `${a} <=> ${b}`;
  }

  protected override length(expr: string): string {
    return `CHAR_LENGTH(${expr})`;
  }

  override dateTrunc(granularity: PartitionGranularity, expr: string): string {
    return `DATE_FORMAT(${expr}, '${FORMATS[granularity]}')`;
  }

  describe(relation: Relation): string {
    const schema = relation.schema === null ? "DATABASE()" : this.str(relation.schema);
    return (
      `SELECT t.TABLE_TYPE AS kind, c.COLUMN_NAME AS column_name, c.COLUMN_TYPE AS data_type\n` +
      `FROM information_schema.TABLES t\nLEFT JOIN information_schema.COLUMNS c\n` +
      `  ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME\n` +
      `WHERE t.TABLE_SCHEMA = ${schema} AND t.TABLE_NAME = ${this.str(relation.name)}\n` +
      `ORDER BY c.ORDINAL_POSITION`
    );
  }

  override lock(target: Relation, waitSeconds: number): LockSteps {
    // One name per table whether the config wrote `db.t` or `t` (the session's database is filled in). Lock
    // names are at most 64 characters: longer ones are hashed.
    const qualified = `CONCAT('tau_mat:', ${target.schema === null ? "DATABASE()" : this.str(target.schema)}, '.', ${this.str(target.name)})`;
    const name = `IF(CHAR_LENGTH(${qualified}) <= 64, ${qualified}, CONCAT('tau_mat:', LEFT(SHA2(${qualified}, 256), 48)))`;
    return {
      acquire: [
        check(`SELECT acquired FROM (SELECT GET_LOCK(${name}, ${Math.max(0, Math.round(waitSeconds))}) AS acquired) AS l WHERE NOT (acquired <=> 1)`, {
          code: "TAU_E_MATERIALIZE_LOCKED",
          message: `Another run held ${displayName(target)} for more than ${waitSeconds} s.`,
          detailsKey: "lock",
        }),
      ],
      release: [{ sql: `SELECT RELEASE_LOCK(${name}) AS released`, kind: "query" }],
    };
  }

  protected override renameTo(from: Relation, toName: string): string {
    return `RENAME TABLE ${this.rel(from)} TO ${this.rel({ schema: from.schema, name: toName })}`;
  }

  override replaceTable(target: Relation, info: RelationInfo | null, build: Relation, select: string): Step[] {
    const steps: Step[] = [ddl(this.dropTable(build)), ddl(this.createTableAs(build, select))];
    if (info?.kind === "table") {
      const old = { schema: target.schema, name: build.name.replace(/__tau_new_/, "__tau_old_") };
      // One RENAME TABLE with two renames is atomic: readers see the old table, then the new one.
      steps.push(
        ddl(this.dropTable(old)),
        ddl(`RENAME TABLE ${this.rel(target)} TO ${this.rel(old)}, ${this.rel(build)} TO ${this.rel(target)}`),
        ddl(this.dropTable(old)),
      );
      return steps;
    }
    if (info?.kind === "view") steps.push(ddl(`DROP VIEW ${this.rel(target)}`));
    steps.push(ddl(this.renameTo(build, target.name)));
    return steps;
  }

  override alterColumnType(relation: Relation, column: Column): string {
    return `ALTER TABLE ${this.rel(relation)} MODIFY COLUMN ${this.quote(column.name)} ${column.type}`;
  }

  override indexStaging(staging: Relation, columns: readonly Column[]): Step[] {
    const parts: string[] = [];
    let bytes = 0;
    for (const c of columns.slice(0, INDEX_MAX_COLUMNS)) {
      const t = c.type.toLowerCase();
      const stringy = /char|text|blob|binary/.test(t);
      const declared = /\((\d+)\)/.exec(t);
      const chars = stringy ? Math.min(declared ? Number(declared[1]) : INDEX_PREFIX_CHARS, INDEX_PREFIX_CHARS) : 0;
      const prefixed = stringy && (!declared || Number(declared[1]) > INDEX_PREFIX_CHARS || /text|blob/.test(t));
      const size = stringy ? chars * 4 : 16;
      if (bytes + size > INDEX_KEY_BYTES) break;
      bytes += size;
      parts.push(prefixed ? `${this.quote(c.name)}(${INDEX_PREFIX_CHARS})` : this.quote(c.name));
    }
    return parts.length === 0 ? [] : [ddl(`CREATE INDEX tau_match ON ${this.rel(staging)} (${parts.join(", ")})`)];
  }

  override insertUnmatched(target: Relation, staging: Relation, columns: readonly string[], values: readonly string[], on: string): Step[] {
    // Drop the staged rows that match first (the target scanned once, each row looked up in the staging index),
    // then insert what is left: NOT EXISTS would probe the unindexed target once per staged row.
    return [
      dml(`DELETE ${S} FROM ${this.rel(staging)} AS ${S}\nJOIN ${this.rel(target)} AS ${T} ON ${on}`, false),
      dml(this.insertSelect(target, columns, `SELECT ${values.join(", ")}\nFROM ${this.rel(staging)} AS ${S}`)),
    ];
  }

  override deleteMatching(target: Relation, staging: Relation, exprs: readonly ((column: (name: string) => string) => string)[]): string {
    if (exprs.length !== 1) return super.deleteMatching(target, staging, exprs);
    // One expression (a partition, a single key): IN (subquery) is materialised once, not probed per row; NULL
    // is matched separately since IN never matches it.
    const e = exprs[0]!;
    return this.deleteWhere(target, (tc) => {
      const t = e(tc);
      const s = e((c) => this.col(S, c));
      return `${t} IN (SELECT ${s} FROM ${this.rel(staging)} AS ${S})\n   OR (${t} IS NULL AND EXISTS (SELECT 1 FROM ${this.rel(staging)} AS ${S} WHERE ${s} IS NULL))`;
    });
  }

  override merge(m: MergeInput): Step[] {
    const steps: Step[] = [];
    if (m.updateColumns.length > 0) {
      steps.push(dml(this.updateFrom(m.target, m.staging, this.keyMatch(m.keys), m.updateColumns.map((c) => [c, this.col(S, c)]))));
    }
    steps.push(...this.insertUnmatched(m.target, m.staging, m.columns, m.columns.map((c) => this.col(S, c)), this.keyMatch(m.keys)));
    return steps;
  }

  override updateFrom(target: Relation, staging: Relation, on: string, set: readonly [string, string][]): string {
    return (
      `UPDATE ${this.rel(target)} AS ${T}\nJOIN ${this.rel(staging)} AS ${S} ON ${on}\n` +
      `SET ${set.map(([c, e]) => `${this.col(T, c)} = ${e}`).join(", ")}`
    );
  }

  override update(target: Relation, set: readonly [string, string][], where: string): string {
    return `UPDATE ${this.rel(target)} AS ${T}\nSET ${set.map(([c, e]) => `${this.col(T, c)} = ${e}`).join(", ")}\nWHERE ${where}`;
  }

  override deleteWhere(target: Relation, where: (column: (name: string) => string) => string): string {
    return `DELETE ${T} FROM ${this.rel(target)} AS ${T}\nWHERE ${where((c) => this.col(T, c))}`;
  }
}
