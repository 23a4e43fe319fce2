SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'ANALYTICS' AND t.table_name = 'DIM_ORDERS'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS "ANALYTICS"."DIM_ORDERS__TAU_STAGE_6C347860";

CREATE TABLE "ANALYTICS"."DIM_ORDERS__TAU_STAGE_6C347860" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'ANALYTICS' AND t.table_name = 'DIM_ORDERS__TAU_STAGE_6C347860'
ORDER BY c.ordinal_position;

SELECT "ID", COUNT(*) AS tau_rows
FROM "ANALYTICS"."DIM_ORDERS__TAU_STAGE_6C347860"
GROUP BY "ID"
HAVING COUNT(*) > 1
LIMIT 5;

CREATE TABLE "ANALYTICS"."DIM_ORDERS" AS
SELECT tau_s."ID", tau_s."CUSTOMER_ID", tau_s."KIND", tau_s."AMOUNT", tau_s."UPDATED_AT", CAST('2026-03-15 06:30:00.000' AS TIMESTAMP_NTZ) AS "VALID_FROM", CAST(NULL AS TIMESTAMP_NTZ) AS "VALID_TO", TRUE AS "IS_CURRENT", MD5(CONCAT(CASE WHEN tau_s."KIND" IS NULL THEN '~,' ELSE CONCAT(CAST(LENGTH(CAST(tau_s."KIND" AS VARCHAR)) AS VARCHAR), ':', CAST(tau_s."KIND" AS VARCHAR), ',') END, CASE WHEN tau_s."AMOUNT" IS NULL THEN '~,' ELSE CONCAT(CAST(LENGTH(CAST(tau_s."AMOUNT" AS VARCHAR)) AS VARCHAR), ':', CAST(tau_s."AMOUNT" AS VARCHAR), ',') END)) AS "ROW_HASH"
FROM "ANALYTICS"."DIM_ORDERS__TAU_STAGE_6C347860" AS tau_s;

SELECT COUNT(*) AS n FROM "ANALYTICS"."DIM_ORDERS";

DROP TABLE IF EXISTS "ANALYTICS"."DIM_ORDERS__TAU_STAGE_6C347860";
