SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'orders'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS `analytics`.`orders__tau_stage_48981c5f`;

CREATE TABLE `analytics`.`orders__tau_stage_48981c5f` AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'orders__tau_stage_48981c5f'
ORDER BY c.ordinal_position;

ALTER TABLE `analytics`.`orders` DROP COLUMN `email`;

DELETE FROM `analytics`.`orders` AS tau_t
WHERE EXISTS (SELECT 1 FROM `analytics`.`orders__tau_stage_48981c5f` AS tau_s WHERE tau_t.`kind` IS NOT DISTINCT FROM tau_s.`kind`);

INSERT INTO `analytics`.`orders` (`id`, `customer_id`, `kind`, `amount`, `updated_at`)
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`
FROM `analytics`.`orders__tau_stage_48981c5f` AS tau_s;

DROP TABLE IF EXISTS `analytics`.`orders__tau_stage_48981c5f`;
