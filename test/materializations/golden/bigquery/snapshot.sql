SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'order_snapshots'
ORDER BY c.ordinal_position;

DROP TABLE IF EXISTS `analytics`.`order_snapshots__tau_stage_fa6b11c2`;

CREATE TABLE `analytics`.`order_snapshots__tau_stage_fa6b11c2` AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.table_type AS kind, c.column_name AS column_name, c.data_type AS data_type
FROM `analytics`.INFORMATION_SCHEMA.TABLES t
LEFT JOIN `analytics`.INFORMATION_SCHEMA.COLUMNS c ON c.table_name = t.table_name
WHERE t.table_name = 'order_snapshots__tau_stage_fa6b11c2'
ORDER BY c.ordinal_position;

DELETE FROM `analytics`.`order_snapshots` AS tau_t
WHERE tau_t.`snapshot_id` = 'run-42';

INSERT INTO `analytics`.`order_snapshots` (`id`, `customer_id`, `kind`, `amount`, `updated_at`, `snapshot_at`, `snapshot_id`)
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`, TIMESTAMP '2026-03-15 06:30:00.000+00' AS `snapshot_at`, CAST('run-42' AS STRING) AS `snapshot_id`
FROM `analytics`.`order_snapshots__tau_stage_fa6b11c2` AS tau_s;

DELETE FROM `analytics`.`order_snapshots` AS tau_t
WHERE tau_t.`snapshot_id` NOT IN (SELECT tau_k.`snapshot_id` FROM (SELECT `snapshot_id`, MAX(`snapshot_at`) AS tau_taken FROM `analytics`.`order_snapshots` GROUP BY `snapshot_id` ORDER BY tau_taken DESC, `snapshot_id` DESC LIMIT 30) AS tau_k);

DROP TABLE IF EXISTS `analytics`.`order_snapshots__tau_stage_fa6b11c2`;
