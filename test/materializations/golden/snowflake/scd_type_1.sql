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

BEGIN;

UPDATE "ANALYTICS"."DIM_ORDERS"
SET "KIND" = tau_s."KIND", "AMOUNT" = tau_s."AMOUNT", "CHANGED_AT" = CAST('2026-03-15 06:30:00.000' AS TIMESTAMP_NTZ)
FROM "ANALYTICS"."DIM_ORDERS__TAU_STAGE_6C347860" AS tau_s
WHERE EQUAL_NULL("ANALYTICS"."DIM_ORDERS"."ID", tau_s."ID") AND (NOT (EQUAL_NULL("ANALYTICS"."DIM_ORDERS"."KIND", tau_s."KIND")) OR NOT (EQUAL_NULL("ANALYTICS"."DIM_ORDERS"."AMOUNT", tau_s."AMOUNT")));

INSERT INTO "ANALYTICS"."DIM_ORDERS" ("ID", "CUSTOMER_ID", "KIND", "AMOUNT", "UPDATED_AT", "CHANGED_AT")
SELECT tau_s."ID", tau_s."CUSTOMER_ID", tau_s."KIND", tau_s."AMOUNT", tau_s."UPDATED_AT", CAST('2026-03-15 06:30:00.000' AS TIMESTAMP_NTZ)
FROM "ANALYTICS"."DIM_ORDERS__TAU_STAGE_6C347860" AS tau_s
WHERE NOT EXISTS (SELECT 1 FROM "ANALYTICS"."DIM_ORDERS" AS tau_t WHERE EQUAL_NULL(tau_t."ID", tau_s."ID"));

COMMIT;

DROP TABLE IF EXISTS "ANALYTICS"."DIM_ORDERS__TAU_STAGE_6C347860";
