SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'dim_orders'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS `analytics`.`dim_orders__tau_stage_6c347860`;

CREATE TABLE `analytics`.`dim_orders__tau_stage_6c347860` AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'dim_orders__tau_stage_6c347860'
ORDER BY c.ordinal_position;

SELECT `id`, COUNT(*) AS tau_rows
FROM `analytics`.`dim_orders__tau_stage_6c347860`
GROUP BY `id`
HAVING COUNT(*) > 1
LIMIT 5;

CREATE TABLE `analytics`.`dim_orders` AS
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`, TIMESTAMP '2026-03-15 06:30:00.000+00' AS `valid_from`, CAST(NULL AS TIMESTAMP) AS `valid_to`, TRUE AS `is_current`, TO_HEX(MD5(CONCAT(CASE WHEN tau_s.`kind` IS NULL THEN '~,' ELSE CONCAT(CAST(LENGTH(CAST(tau_s.`kind` AS STRING)) AS STRING), ':', CAST(tau_s.`kind` AS STRING), ',') END, CASE WHEN tau_s.`amount` IS NULL THEN '~,' ELSE CONCAT(CAST(LENGTH(CAST(tau_s.`amount` AS STRING)) AS STRING), ':', CAST(tau_s.`amount` AS STRING), ',') END))) AS `row_hash`
FROM `analytics`.`dim_orders__tau_stage_6c347860` AS tau_s;

SELECT COUNT(*) AS n FROM `analytics`.`dim_orders`;

DROP TABLE IF EXISTS `analytics`.`dim_orders__tau_stage_6c347860`;
