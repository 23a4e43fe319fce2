/**
 * Schema migrations (@mikro-orm/migrations), one list per dialect (migrations/sqlite, migrations/postgresql),
 * run at open. The lists are imported, not globbed: the daemon is bundled by esbuild into dist/.
 *
 * A SQLite database made before migrations existed (the schema came from `updateSchema()`, there is no
 * migrations table) is baselined: brought up to the initial migration's schema additively (what an older
 * daemon's `updateSchema()` would have added; never to the current entities, which later migrations build
 * towards), then recorded as having run the initial migration, so the later ones run on it. Its rows stay.
 *
 * New migrations: `npm run migration:create -- NAME` (scripts/migration-create.ts) writes one for each
 * dialect from the difference between the entities and a database migrated to the newest migration.
 */
import { MikroORM as SqliteORM } from "@mikro-orm/better-sqlite";
import type { MikroORM } from "./database";
import { ENTITIES } from "./entities";
import { Migrator } from "@mikro-orm/migrations";
import type { Pool } from "pg";
import { POSTGRESQL_MIGRATIONS } from "./migrations/postgresql";
import { SQLITE_MIGRATIONS } from "./migrations/sqlite";
import type { Dialect } from "./sql";

export const MIGRATIONS = { sqlite: SQLITE_MIGRATIONS, postgresql: POSTGRESQL_MIGRATIONS } as const;

export const MIGRATIONS_TABLE = "mikro_orm_migrations";

/** Serialises migrations of processes opening the store on one PostgreSQL database at the same time. */
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
  if (dialect === "sqlite") await addMissingInitialSchema(orm, initial);
  const storage = migrator.getStorage();
  await storage.ensureTable();
  await storage.logMigration({ name: initial.name, context: null });
}

/**
 * Adds to an unversioned SQLite database what the initial migration has and it lacks — tables, columns,
 * indexes; never a drop or a change — as an older daemon's `updateSchema()` would have. The initial
 * migration's schema is read off an in-memory database it ran on; sqlite keeps each table's and index's
 * DDL, so missing ones are created with exactly that text.
 */
async function addMissingInitialSchema(orm: MikroORM, initial: (typeof SQLITE_MIGRATIONS)[number]): Promise<void> {
  const scratch = await SqliteORM.init({
    dbName: ":memory:",
    entities: ENTITIES,
    metadataCache: { enabled: false },
    debug: false,
    allowGlobalContext: true,
    extensions: [Migrator],
    migrations: { migrationsList: [initial], silent: true, snapshot: false },
  });
  try {
    await (scratch.getMigrator() as Migrator).up();
    const target = scratch.em.getConnection();
    const current = orm.em.getConnection();
    type MasterRow = { type: string; name: string; tbl_name: string; sql: string | null };
    type ColumnRow = { name: string; type: string; notnull: number; dflt_value: string | null };
    const master = (c: typeof current): Promise<MasterRow[]> =>
      c.execute<MasterRow[]>(`select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' and tbl_name <> '${MIGRATIONS_TABLE}'`);
    const have = new Set((await master(current)).map((r) => `${r.type}:${r.name}`));
    const wanted = await master(target);
    for (const table of wanted.filter((r) => r.type === "table")) {
      if (!have.has(`table:${table.name}`)) {
        await current.execute(table.sql!);
        continue;
      }
      const present = new Set((await current.execute<ColumnRow[]>(`pragma table_info(\`${table.name}\`)`)).map((c) => c.name));
      for (const column of await target.execute<ColumnRow[]>(`pragma table_info(\`${table.name}\`)`)) {
        if (present.has(column.name)) continue;
        if (column.notnull && column.dflt_value === null) {
          throw new Error(`${table.name}.${column.name} is missing and cannot be added (not null, no default); start the Tau version that made this database once, then this one`);
        }
        const nullability = column.notnull ? ` not null default ${column.dflt_value}` : column.dflt_value === null ? " null" : ` null default ${column.dflt_value}`;
        await current.execute(`alter table \`${table.name}\` add column \`${column.name}\` ${column.type}${nullability}`);
      }
    }
    for (const index of wanted.filter((r) => r.type === "index" && r.sql !== null)) {
      if (!have.has(`index:${index.name}`)) await current.execute(index.sql!);
    }
  } finally {
    await scratch.close(true);
  }
}

export async function tableNames(orm: MikroORM, dialect: Dialect): Promise<Set<string>> {
  const connection = orm.em.getConnection();
  const rows =
    dialect === "sqlite"
      ? await connection.execute<Array<{ name: string }>>("select name from sqlite_master where type = 'table'")
      : await connection.execute<Array<{ name: string }>>("select table_name as name from information_schema.tables where table_schema = current_schema()");
  return new Set(rows.map((r) => r.name));
}
