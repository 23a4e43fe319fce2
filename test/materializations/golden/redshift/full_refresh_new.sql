BEGIN;

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'orders' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'orders' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

DROP TABLE IF EXISTS "analytics"."orders__tau_new_48981c5f";

CREATE TABLE "analytics"."orders__tau_new_48981c5f" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

ALTER TABLE "analytics"."orders__tau_new_48981c5f" RENAME TO "orders";

SELECT COUNT(*) AS n FROM "analytics"."orders";

COMMIT;
