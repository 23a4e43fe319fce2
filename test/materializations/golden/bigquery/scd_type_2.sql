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
SET `valid_to` = CAST(COALESCE(CAST(tau_s.`updated_at` AS TIMESTAMP), TIMESTAMP '2026-03-15 06:30:00.000+00') AS TIMESTAMP), `is_current` = FALSE
FROM `analytics`.`dim_orders__tau_stage_6c347860` AS tau_s
WHERE tau_t.`is_current` = TRUE AND tau_t.`id` IS NOT DISTINCT FROM tau_s.`id` AND (NOT (tau_t.`customer_id` IS NOT DISTINCT FROM tau_s.`customer_id`) OR NOT (tau_t.`kind` IS NOT DISTINCT FROM tau_s.`kind`) OR NOT (tau_t.`amount` IS NOT DISTINCT FROM tau_s.`amount`) OR NOT (tau_t.`updated_at` IS NOT DISTINCT FROM tau_s.`updated_at`)) AND CAST(COALESCE(CAST(tau_s.`updated_at` AS TIMESTAMP), TIMESTAMP '2026-03-15 06:30:00.000+00') AS TIMESTAMP) > tau_t.`valid_from`;

UPDATE `analytics`.`dim_orders` AS tau_t
SET `valid_to` = TIMESTAMP '2026-03-15 06:30:00.000+00', `is_current` = FALSE
WHERE tau_t.`is_current` = TRUE AND NOT EXISTS (SELECT 1 FROM `analytics`.`dim_orders__tau_stage_6c347860` AS tau_s WHERE tau_t.`id` IS NOT DISTINCT FROM tau_s.`id`);

INSERT INTO `analytics`.`dim_orders` (`id`, `customer_id`, `kind`, `amount`, `updated_at`, `valid_from`, `valid_to`, `is_current`, `row_hash`)
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`, CAST(COALESCE(CAST(tau_s.`updated_at` AS TIMESTAMP), TIMESTAMP '2026-03-15 06:30:00.000+00') AS TIMESTAMP), CAST(NULL AS TIMESTAMP), TRUE, TO_HEX(MD5(CONCAT(CASE WHEN tau_s.`customer_id` IS NULL THEN '~,' ELSE CONCAT(CAST(LENGTH(CAST(tau_s.`customer_id` AS STRING)) AS STRING), ':', CAST(tau_s.`customer_id` AS STRING), ',') END, CASE WHEN tau_s.`kind` IS NULL THEN '~,' ELSE CONCAT(CAST(LENGTH(CAST(tau_s.`kind` AS STRING)) AS STRING), ':', CAST(tau_s.`kind` AS STRING), ',') END, CASE WHEN tau_s.`amount` IS NULL THEN '~,' ELSE CONCAT(CAST(LENGTH(CAST(tau_s.`amount` AS STRING)) AS STRING), ':', CAST(tau_s.`amount` AS STRING), ',') END, CASE WHEN tau_s.`updated_at` IS NULL THEN '~,' ELSE CONCAT(CAST(LENGTH(CAST(tau_s.`updated_at` AS STRING)) AS STRING), ':', CAST(tau_s.`updated_at` AS STRING), ',') END)))
FROM `analytics`.`dim_orders__tau_stage_6c347860` AS tau_s
WHERE NOT EXISTS (SELECT 1 FROM `analytics`.`dim_orders` AS tau_t WHERE tau_t.`is_current` = TRUE AND tau_t.`id` IS NOT DISTINCT FROM tau_s.`id`);

SELECT `id`, COUNT(*) AS tau_current
FROM `analytics`.`dim_orders`
WHERE `is_current` = TRUE
GROUP BY `id`
HAVING COUNT(*) > 1
LIMIT 5;

DROP TABLE IF EXISTS `analytics`.`dim_orders__tau_stage_6c347860`;
