BEGIN;

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'raw' AND c.relname = 'api_logs' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

LOCK TABLE "raw"."api_logs";

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'raw' AND c.relname = 'api_logs' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

DROP TABLE IF EXISTS "raw"."api_logs__tau_stage_68f975bb";

CREATE TABLE "raw"."api_logs__tau_stage_68f975bb" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT c.relkind AS kind, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'raw' AND c.relname = 'api_logs__tau_stage_68f975bb' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum;

INSERT INTO "raw"."api_logs" ("id", "customer_id", "kind", "amount", "updated_at")
SELECT tau_s."id", tau_s."customer_id", tau_s."kind", tau_s."amount", tau_s."updated_at"
FROM "raw"."api_logs__tau_stage_68f975bb" AS tau_s
WHERE NOT EXISTS (SELECT 1 FROM "raw"."api_logs" AS tau_t WHERE (CASE WHEN tau_t."id" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_t."id" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_t."id" AS VARCHAR(65535)) || ',') END || CASE WHEN tau_t."customer_id" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_t."customer_id" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_t."customer_id" AS VARCHAR(65535)) || ',') END || CASE WHEN tau_t."kind" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_t."kind" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_t."kind" AS VARCHAR(65535)) || ',') END || CASE WHEN tau_t."amount" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_t."amount" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_t."amount" AS VARCHAR(65535)) || ',') END || CASE WHEN tau_t."updated_at" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_t."updated_at" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_t."updated_at" AS VARCHAR(65535)) || ',') END) = (CASE WHEN tau_s."id" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_s."id" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_s."id" AS VARCHAR(65535)) || ',') END || CASE WHEN tau_s."customer_id" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_s."customer_id" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_s."customer_id" AS VARCHAR(65535)) || ',') END || CASE WHEN tau_s."kind" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_s."kind" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_s."kind" AS VARCHAR(65535)) || ',') END || CASE WHEN tau_s."amount" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_s."amount" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_s."amount" AS VARCHAR(65535)) || ',') END || CASE WHEN tau_s."updated_at" IS NULL THEN '~,' ELSE (CAST(LENGTH(CAST(tau_s."updated_at" AS VARCHAR(65535))) AS VARCHAR(65535)) || ':' || CAST(tau_s."updated_at" AS VARCHAR(65535)) || ',') END));

DROP TABLE IF EXISTS "raw"."api_logs__tau_stage_68f975bb";

COMMIT;
