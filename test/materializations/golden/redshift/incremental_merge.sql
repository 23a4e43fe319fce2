BEGIN;

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'orders' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

LOCK TABLE "analytics"."orders";

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'orders' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

DROP TABLE IF EXISTS "analytics"."orders__tau_stage_48981c5f";

CREATE TABLE "analytics"."orders__tau_stage_48981c5f" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source
WHERE (SELECT MAX("updated_at") FROM "analytics"."orders") IS NULL OR tau_source."updated_at" > (SELECT MAX("updated_at") FROM "analytics"."orders");

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'orders__tau_stage_48981c5f' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

SELECT "id", COUNT(*) AS tau_rows
FROM "analytics"."orders__tau_stage_48981c5f"
GROUP BY "id"
HAVING COUNT(*) > 1
LIMIT 5;

ALTER TABLE "analytics"."orders" ADD COLUMN "email" character varying(256);

DELETE FROM "analytics"."orders"
WHERE EXISTS (SELECT 1 FROM "analytics"."orders__tau_stage_48981c5f" AS tau_s WHERE CASE WHEN "analytics"."orders"."id" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST("analytics"."orders"."id" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST("analytics"."orders"."id" AS VARCHAR(65535)) || ',') END = CASE WHEN tau_s."id" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_s."id" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_s."id" AS VARCHAR(65535)) || ',') END);

INSERT INTO "analytics"."orders" ("id", "customer_id", "kind", "amount", "updated_at", "email")
SELECT tau_s."id", tau_s."customer_id", tau_s."kind", tau_s."amount", tau_s."updated_at", tau_s."email"
FROM "analytics"."orders__tau_stage_48981c5f" AS tau_s;

DROP TABLE IF EXISTS "analytics"."orders__tau_stage_48981c5f";

COMMIT;
