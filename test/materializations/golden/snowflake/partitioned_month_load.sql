SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'ANALYTICS' AND t.table_name = 'EVENTS'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS "ANALYTICS"."EVENTS__TAU_STAGE_5816D300";

CREATE TABLE "ANALYTICS"."EVENTS__TAU_STAGE_5816D300" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'ANALYTICS' AND t.table_name = 'EVENTS__TAU_STAGE_5816D300'
ORDER BY c.ordinal_position;

BEGIN;

DELETE FROM "ANALYTICS"."EVENTS"
WHERE EXISTS (SELECT 1 FROM "ANALYTICS"."EVENTS__TAU_STAGE_5816D300" AS tau_s WHERE EQUAL_NULL(DATE_TRUNC('MONTH', "ANALYTICS"."EVENTS"."UPDATED_AT"), DATE_TRUNC('MONTH', tau_s."UPDATED_AT")));

INSERT INTO "ANALYTICS"."EVENTS" ("ID", "CUSTOMER_ID", "KIND", "AMOUNT", "UPDATED_AT")
SELECT tau_s."ID", tau_s."CUSTOMER_ID", tau_s."KIND", tau_s."AMOUNT", tau_s."UPDATED_AT"
FROM "ANALYTICS"."EVENTS__TAU_STAGE_5816D300" AS tau_s;

COMMIT;

DROP TABLE IF EXISTS "ANALYTICS"."EVENTS__TAU_STAGE_5816D300";
