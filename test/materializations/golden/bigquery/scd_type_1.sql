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

UPDATE `analytics`.`dim_orders` AS tau_t
SET `kind` = tau_s.`kind`, `amount` = tau_s.`amount`, `changed_at` = TIMESTAMP '2026-03-15 06:30:00.000+00'
FROM `analytics`.`dim_orders__tau_stage_6c347860` AS tau_s
WHERE tau_t.`id` IS NOT DISTINCT FROM tau_s.`id` AND (NOT (tau_t.`kind` IS NOT DISTINCT FROM tau_s.`kind`) OR NOT (tau_t.`amount` IS NOT DISTINCT FROM tau_s.`amount`));

INSERT INTO `analytics`.`dim_orders` (`id`, `customer_id`, `kind`, `amount`, `updated_at`, `changed_at`)
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`, TIMESTAMP '2026-03-15 06:30:00.000+00'
FROM `analytics`.`dim_orders__tau_stage_6c347860` AS tau_s
WHERE NOT EXISTS (SELECT 1 FROM `analytics`.`dim_orders` AS tau_t WHERE tau_t.`id` IS NOT DISTINCT FROM tau_s.`id`);

DROP TABLE IF EXISTS `analytics`.`dim_orders__tau_stage_6c347860`;
