SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'ANALYTICS' AND t.table_name = 'ORDERS'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS "ANALYTICS"."ORDERS__TAU_STAGE_48981C5F";

CREATE TABLE "ANALYTICS"."ORDERS__TAU_STAGE_48981C5F" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source
WHERE (SELECT MAX("UPDATED_AT") FROM "ANALYTICS"."ORDERS") IS NULL OR tau_source."UPDATED_AT" > (SELECT MAX("UPDATED_AT") FROM "ANALYTICS"."ORDERS");

SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'ANALYTICS' AND t.table_name = 'ORDERS__TAU_STAGE_48981C5F'
ORDER BY c.ordinal_position;

SELECT "ID", COUNT(*) AS tau_rows
FROM "ANALYTICS"."ORDERS__TAU_STAGE_48981C5F"
GROUP BY "ID"
HAVING COUNT(*) > 1
LIMIT 5;

ALTER TABLE "ANALYTICS"."ORDERS" ADD COLUMN "EMAIL" TEXT;

BEGIN;

MERGE INTO "ANALYTICS"."ORDERS" AS tau_t
USING "ANALYTICS"."ORDERS__TAU_STAGE_48981C5F" AS tau_s
ON EQUAL_NULL(tau_t."ID", tau_s."ID")
WHEN MATCHED THEN UPDATE SET "CUSTOMER_ID" = tau_s."CUSTOMER_ID", "KIND" = tau_s."KIND", "AMOUNT" = tau_s."AMOUNT", "UPDATED_AT" = tau_s."UPDATED_AT", "EMAIL" = tau_s."EMAIL"
WHEN NOT MATCHED THEN INSERT ("ID", "CUSTOMER_ID", "KIND", "AMOUNT", "UPDATED_AT", "EMAIL")
VALUES (tau_s."ID", tau_s."CUSTOMER_ID", tau_s."KIND", tau_s."AMOUNT", tau_s."UPDATED_AT", tau_s."EMAIL");

COMMIT;

DROP TABLE IF EXISTS "ANALYTICS"."ORDERS__TAU_STAGE_48981C5F";
