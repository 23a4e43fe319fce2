SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `raw`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `raw`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'api_logs'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS `raw`.`api_logs__tau_stage_68f975bb`;

CREATE TABLE `raw`.`api_logs__tau_stage_68f975bb` AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `raw`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `raw`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'api_logs__tau_stage_68f975bb'
ORDER BY c.ordinal_position;

INSERT INTO `raw`.`api_logs` (`id`, `customer_id`, `kind`, `amount`, `updated_at`)
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`
FROM `raw`.`api_logs__tau_stage_68f975bb` AS tau_s
WHERE NOT EXISTS (SELECT 1 FROM `raw`.`api_logs` AS tau_t WHERE tau_t.`id` IS NOT DISTINCT FROM tau_s.`id` AND tau_t.`customer_id` IS NOT DISTINCT FROM tau_s.`customer_id` AND tau_t.`kind` IS NOT DISTINCT FROM tau_s.`kind` AND tau_t.`amount` IS NOT DISTINCT FROM tau_s.`amount` AND tau_t.`updated_at` IS NOT DISTINCT FROM tau_s.`updated_at`);

DROP TABLE IF EXISTS `raw`.`api_logs__tau_stage_68f975bb`;
