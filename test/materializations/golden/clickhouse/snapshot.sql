SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'analytics' AND t.name = 'order_snapshots'
ORDER BY c.position;

DROP TABLE IF EXISTS `analytics`.`order_snapshots__tau_stage_fa6b11c2`;

CREATE TABLE `analytics`.`order_snapshots__tau_stage_fa6b11c2`
ENGINE = MergeTree()
ORDER BY tuple() AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'analytics' AND t.name = 'order_snapshots__tau_stage_fa6b11c2'
ORDER BY c.position;

DELETE FROM `analytics`.`order_snapshots`
WHERE `snapshot_id` = 'run-42';

INSERT INTO `analytics`.`order_snapshots` (`id`, `customer_id`, `kind`, `amount`, `updated_at`, `snapshot_at`, `snapshot_id`)
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`, toDateTime64('2026-03-15 06:30:00.000', 3, 'UTC') AS `snapshot_at`, CAST('run-42' AS String) AS `snapshot_id`
FROM `analytics`.`order_snapshots__tau_stage_fa6b11c2` AS tau_s;

DELETE FROM `analytics`.`order_snapshots`
WHERE `snapshot_id` NOT IN (SELECT tau_k.`snapshot_id` FROM (SELECT `snapshot_id`, MAX(`snapshot_at`) AS tau_taken FROM `analytics`.`order_snapshots` GROUP BY `snapshot_id` ORDER BY tau_taken DESC, `snapshot_id` DESC LIMIT 30) AS tau_k);

DROP TABLE IF EXISTS `analytics`.`order_snapshots__tau_stage_fa6b11c2`;
