SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'v_orders'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS `analytics`.`v_orders`;

CREATE OR REPLACE VIEW `analytics`.`v_orders` AS
SELECT * FROM raw.orders;
