SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'ANALYTICS' AND t.table_name = 'ORDER_SNAPSHOTS'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS "ANALYTICS"."ORDER_SNAPSHOTS__TAU_STAGE_FA6B11C2";

CREATE TABLE "ANALYTICS"."ORDER_SNAPSHOTS__TAU_STAGE_FA6B11C2" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'ANALYTICS' AND t.table_name = 'ORDER_SNAPSHOTS__TAU_STAGE_FA6B11C2'
ORDER BY c.ordinal_position;

BEGIN;

DELETE FROM "ANALYTICS"."ORDER_SNAPSHOTS"
WHERE "ANALYTICS"."ORDER_SNAPSHOTS"."SNAPSHOT_ID" = 'run-42';

INSERT INTO "ANALYTICS"."ORDER_SNAPSHOTS" ("ID", "CUSTOMER_ID", "KIND", "AMOUNT", "UPDATED_AT", "SNAPSHOT_AT", "SNAPSHOT_ID")
SELECT tau_s."ID", tau_s."CUSTOMER_ID", tau_s."KIND", tau_s."AMOUNT", tau_s."UPDATED_AT", CAST('2026-03-15 06:30:00.000' AS TIMESTAMP_NTZ) AS "SNAPSHOT_AT", CAST('run-42' AS VARCHAR) AS "SNAPSHOT_ID"
FROM "ANALYTICS"."ORDER_SNAPSHOTS__TAU_STAGE_FA6B11C2" AS tau_s;

DELETE FROM "ANALYTICS"."ORDER_SNAPSHOTS"
WHERE "ANALYTICS"."ORDER_SNAPSHOTS"."SNAPSHOT_ID" NOT IN (SELECT tau_k."SNAPSHOT_ID" FROM (SELECT "SNAPSHOT_ID", MAX("SNAPSHOT_AT") AS tau_taken FROM "ANALYTICS"."ORDER_SNAPSHOTS" GROUP BY "SNAPSHOT_ID" ORDER BY tau_taken DESC, "SNAPSHOT_ID" DESC LIMIT 30) AS tau_k);

COMMIT;

DROP TABLE IF EXISTS "ANALYTICS"."ORDER_SNAPSHOTS__TAU_STAGE_FA6B11C2";
