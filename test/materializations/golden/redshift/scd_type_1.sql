BEGIN;

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'dim_orders' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

LOCK TABLE "analytics"."dim_orders";

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'dim_orders' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

DROP TABLE IF EXISTS "analytics"."dim_orders__tau_stage_6c347860";

CREATE TABLE "analytics"."dim_orders__tau_stage_6c347860" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'dim_orders__tau_stage_6c347860' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

SELECT "id", COUNT(*) AS tau_rows
FROM "analytics"."dim_orders__tau_stage_6c347860"
GROUP BY "id"
HAVING COUNT(*) > 1
LIMIT 5;

UPDATE "analytics"."dim_orders"
SET "kind" = tau_s."kind", "amount" = tau_s."amount", "changed_at" = TIMESTAMP '2026-03-15 06:30:00.000'
FROM "analytics"."dim_orders__tau_stage_6c347860" AS tau_s
WHERE CASE WHEN "analytics"."dim_orders"."id" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST("analytics"."dim_orders"."id" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST("analytics"."dim_orders"."id" AS VARCHAR(65535)) || ',') END = CASE WHEN tau_s."id" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_s."id" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_s."id" AS VARCHAR(65535)) || ',') END AND (NOT (("analytics"."dim_orders"."kind" = tau_s."kind" OR ("analytics"."dim_orders"."kind" IS NULL AND tau_s."kind" IS NULL))) OR NOT (("analytics"."dim_orders"."amount" = tau_s."amount" OR ("analytics"."dim_orders"."amount" IS NULL AND tau_s."amount" IS NULL))));

INSERT INTO "analytics"."dim_orders" ("id", "customer_id", "kind", "amount", "updated_at", "changed_at")
SELECT tau_s."id", tau_s."customer_id", tau_s."kind", tau_s."amount", tau_s."updated_at", TIMESTAMP '2026-03-15 06:30:00.000'
FROM "analytics"."dim_orders__tau_stage_6c347860" AS tau_s
WHERE NOT EXISTS (SELECT 1 FROM "analytics"."dim_orders" AS tau_t WHERE CASE WHEN tau_t."id" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_t."id" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_t."id" AS VARCHAR(65535)) || ',') END = CASE WHEN tau_s."id" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_s."id" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_s."id" AS VARCHAR(65535)) || ',') END);

DROP TABLE IF EXISTS "analytics"."dim_orders__tau_stage_6c347860";

COMMIT;
