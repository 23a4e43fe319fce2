SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'orders'
ORDER BY c.ordinal_position;

CREATE OR REPLACE TABLE `analytics`.`orders` AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT COUNT(*) AS n FROM `analytics`.`orders`;
