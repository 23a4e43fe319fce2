SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'events'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS `analytics`.`events__tau_stage_5816d300`;

CREATE TABLE `analytics`.`events__tau_stage_5816d300` AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'events__tau_stage_5816d300'
ORDER BY c.ordinal_position;

SELECT `id`, COUNT(*) AS tau_rows
FROM `analytics`.`events__tau_stage_5816d300`
GROUP BY `id`
HAVING COUNT(*) > 1
LIMIT 5;

CREATE TABLE `analytics`.`events`
PARTITION BY DATE(`updated_at`)
CLUSTER BY `customer_id`, `kind`
OPTIONS (partition_expiration_days = 90) AS
SELECT * FROM `analytics`.`events__tau_stage_5816d300`;

SELECT COUNT(*) AS n FROM `analytics`.`events`;

DELETE FROM `analytics`.`events` AS tau_t
WHERE tau_t.`updated_at` < TIMESTAMP '2025-12-15 00:00:00.000+00';

DROP TABLE IF EXISTS `analytics`.`events__tau_stage_5816d300`;
