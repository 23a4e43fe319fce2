BEGIN;

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'v_orders' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

LOCK TABLE "analytics"."v_orders";

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'analytics' AND c.relname = 'v_orders' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

DROP TABLE "analytics"."v_orders";

CREATE VIEW "analytics"."v_orders" AS
SELECT * FROM raw.orders;

COMMIT;
