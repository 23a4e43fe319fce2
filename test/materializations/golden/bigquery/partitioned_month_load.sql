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

DELETE FROM `analytics`.`events` AS tau_t
WHERE EXISTS (SELECT 1 FROM `analytics`.`events__tau_stage_5816d300` AS tau_s WHERE TIMESTAMP_TRUNC(tau_t.`updated_at`, MONTH) IS NOT DISTINCT FROM TIMESTAMP_TRUNC(tau_s.`updated_at`, MONTH));

INSERT INTO `analytics`.`events` (`id`, `customer_id`, `kind`, `amount`, `updated_at`)
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`
FROM `analytics`.`events__tau_stage_5816d300` AS tau_s;

DROP TABLE IF EXISTS `analytics`.`events__tau_stage_5816d300`;
