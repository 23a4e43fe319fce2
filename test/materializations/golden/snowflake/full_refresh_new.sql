SELECT t.table_type AS "kind", c.column_name AS "column_name", c.data_type AS "data_type"
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name
WHERE t.table_schema = 'ANALYTICS' AND t.table_name = 'ORDERS'
ORDER BY c.ordinal_position;

CREATE OR REPLACE TABLE "ANALYTICS"."ORDERS" AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT COUNT(*) AS n FROM "ANALYTICS"."ORDERS";
