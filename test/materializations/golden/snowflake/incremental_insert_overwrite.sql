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
) AS tau_source;

SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'ANALYTICS' AND t.table_name = 'ORDERS__TAU_STAGE_48981C5F'
ORDER BY c.ordinal_position;

ALTER TABLE "ANALYTICS"."ORDERS" DROP COLUMN "EMAIL";

BEGIN;

DELETE FROM "ANALYTICS"."ORDERS"
WHERE EXISTS (SELECT 1 FROM "ANALYTICS"."ORDERS__TAU_STAGE_48981C5F" AS tau_s WHERE EQUAL_NULL("ANALYTICS"."ORDERS"."KIND", tau_s."KIND"));

INSERT INTO "ANALYTICS"."ORDERS" ("ID", "CUSTOMER_ID", "KIND", "AMOUNT", "UPDATED_AT")
SELECT tau_s."ID", tau_s."CUSTOMER_ID", tau_s."KIND", tau_s."AMOUNT", tau_s."UPDATED_AT"
FROM "ANALYTICS"."ORDERS__TAU_STAGE_48981C5F" AS tau_s;

COMMIT;

DROP TABLE IF EXISTS "ANALYTICS"."ORDERS__TAU_STAGE_48981C5F";
