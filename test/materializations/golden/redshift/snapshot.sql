BEGIN;

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'order_snapshots' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

LOCK TABLE "analytics"."order_snapshots";

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'order_snapshots' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

DROP TABLE IF EXISTS "analytics"."order_snapshots__tau_stage_fa6b11c2";

CREATE TABLE "analytics"."order_snapshots__tau_stage_fa6b11c2" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'order_snapshots__tau_stage_fa6b11c2' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

DELETE FROM "analytics"."order_snapshots"
WHERE "analytics"."order_snapshots"."snapshot_id" = 'run-42';

INSERT INTO "analytics"."order_snapshots" ("id", "customer_id", "kind", "amount", "updated_at", "snapshot_at", "snapshot_id")
SELECT tau_s."id", tau_s."customer_id", tau_s."kind", tau_s."amount", tau_s."updated_at", TIMESTAMP '2026-03-15 06:30:00.000' AS "snapshot_at", CAST('run-42' AS VARCHAR(65535)) AS "snapshot_id"
FROM "analytics"."order_snapshots__tau_stage_fa6b11c2" AS tau_s;

DELETE FROM "analytics"."order_snapshots"
WHERE "analytics"."order_snapshots"."snapshot_id" NOT IN (SELECT tau_k."snapshot_id" FROM (SELECT "snapshot_id", MAX("snapshot_at") AS tau_taken FROM "analytics"."order_snapshots" GROUP BY "snapshot_id" ORDER BY tau_taken DESC, "snapshot_id" DESC LIMIT 30) AS tau_k);

DROP TABLE IF EXISTS "analytics"."order_snapshots__tau_stage_fa6b11c2";

COMMIT;
