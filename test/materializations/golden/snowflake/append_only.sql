SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'RAW' AND t.table_name = 'API_LOGS'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS "RAW"."API_LOGS__TAU_STAGE_68F975BB";

CREATE TABLE "RAW"."API_LOGS__TAU_STAGE_68F975BB" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'RAW' AND t.table_name = 'API_LOGS__TAU_STAGE_68F975BB'
ORDER BY c.ordinal_position;

BEGIN;

INSERT INTO "RAW"."API_LOGS" ("ID", "CUSTOMER_ID", "KIND", "AMOUNT", "UPDATED_AT")
SELECT tau_s."ID", tau_s."CUSTOMER_ID", tau_s."KIND", tau_s."AMOUNT", tau_s."UPDATED_AT"
FROM "RAW"."API_LOGS__TAU_STAGE_68F975BB" AS tau_s
WHERE NOT EXISTS (SELECT 1 FROM "RAW"."API_LOGS" AS tau_t WHERE EQUAL_NULL(tau_t."ID", tau_s."ID") AND EQUAL_NULL(tau_t."CUSTOMER_ID", tau_s."CUSTOMER_ID") AND EQUAL_NULL(tau_t."KIND", tau_s."KIND") AND EQUAL_NULL(tau_t."AMOUNT", tau_s."AMOUNT") AND EQUAL_NULL(tau_t."UPDATED_AT", tau_s."UPDATED_AT"));

COMMIT;

DROP TABLE IF EXISTS "RAW"."API_LOGS__TAU_STAGE_68F975BB";
