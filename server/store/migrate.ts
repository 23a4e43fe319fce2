/**
 * Schema migrations (@mikro-orm/migrations), one list per dialect (migrations/sqlite, migrations/postgresql),
 * run at open. The lists are imported, not globbed: the daemon is bundled by esbuild into dist/.
 *
 * A SQLite database made before migrations existed (the schema came from `updateSchema()`, there is no
 * migrations table) is baselined: brought up to the initial migration's schema the way it always was
 * (additive `updateSchema()`), then recorded as having run the initial migration. Its rows stay.
 *
 * New migrations: `npm run migration:create -- NAME` (scripts/migration-create.ts) writes one for each
 * dialect from the difference between the entities and a database migrated to the newest migration.
 */
import type { MikroORM } from "./database";
import type { Migrator } from "@mikro-orm/migrations";
import type { Pool } from "pg";
import { POSTGRESQL_MIGRATIONS } from "./migrations/postgresql";
import { SQLITE_MIGRATIONS } from "./migrations/sqlite";
import type { Dialect } from "./sql";

export const MIGRATIONS = { sqlite: SQLITE_MIGRATIONS, postgresql: POSTGRESQL_MIGRATIONS } as const;

export const MIGRATIONS_TABLE = "mikro_orm_migrations";

/** Serialises migrations of processes sharing one PostgreSQL database (a daemon and its workers starting). */
const MIGRATION_LOCK = 7_470_001;

/** Migrates the database of `orm` to the newest migration of its dialect; returns the migrations it ran. */
export async function migrate(orm: MikroORM, dialect: Dialect, pool?: Pool): Promise<string[]> {
  const lock = pool ? await pool.connect() : undefined;
  try {
    if (lock) await lock.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    const migrator = orm.getMigrator() as Migrator;
    if (await isUnversioned(orm, dialect)) await baseline(orm, migrator, dialect);
    const ran = await migrator.up();
    return ran.map((m) => m.name);
  } finally {
    if (lock) {
      await lock.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
      lock.release();
    }
  }
}

/** True for a database that has the store's tables but no migrations table (made by `updateSchema()`). */
async function isUnversioned(orm: MikroORM, dialect: Dialect): Promise<boolean> {
  const tables = await tableNames(orm, dialect);
  return tables.has("pipeline") && !tables.has(MIGRATIONS_TABLE);
}

async function baseline(orm: MikroORM, migrator: Migrator, dialect: Dialect): Promise<void> {
  const initial = MIGRATIONS[dialect][0];
  if (!initial) return;
  await orm.schema.updateSchema({ safe: true });
  const storage = migrator.getStorage();
  await storage.ensureTable();
  await storage.logMigration({ name: initial.name, context: null });
}

export async function tableNames(orm: MikroORM, dialect: Dialect): Promise<Set<string>> {
  const connection = orm.em.getConnection();
  const rows =
    dialect === "sqlite"
      ? await connection.execute<Array<{ name: string }>>("select name from sqlite_master where type = 'table'")
      : await connection.execute<Array<{ name: string }>>("select table_name as name from information_schema.tables where table_schema = current_schema()");
  return new Set(rows.map((r) => r.name));
}
