SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'orders'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS `analytics`.`orders__tau_stage_48981c5f`;

CREATE TABLE `analytics`.`orders__tau_stage_48981c5f` AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source
WHERE (SELECT MAX(`updated_at`) FROM `analytics`.`orders`) IS NULL OR tau_source.`updated_at` > (SELECT MAX(`updated_at`) FROM `analytics`.`orders`);

SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'orders__tau_stage_48981c5f'
ORDER BY c.ordinal_position;

SELECT `id`, COUNT(*) AS tau_rows
FROM `analytics`.`orders__tau_stage_48981c5f`
GROUP BY `id`
HAVING COUNT(*) > 1
LIMIT 5;

ALTER TABLE `analytics`.`orders` ADD COLUMN `email` STRING;

MERGE INTO `analytics`.`orders` AS tau_t
USING `analytics`.`orders__tau_stage_48981c5f` AS tau_s
ON tau_t.`id` IS NOT DISTINCT FROM tau_s.`id`
WHEN MATCHED THEN UPDATE SET `customer_id` = tau_s.`customer_id`, `kind` = tau_s.`kind`, `amount` = tau_s.`amount`, `updated_at` = tau_s.`updated_at`, `email` = tau_s.`email`
WHEN NOT MATCHED THEN INSERT (`id`, `customer_id`, `kind`, `amount`, `updated_at`, `email`)
VALUES (tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`, tau_s.`email`);

DROP TABLE IF EXISTS `analytics`.`orders__tau_stage_48981c5f`;
