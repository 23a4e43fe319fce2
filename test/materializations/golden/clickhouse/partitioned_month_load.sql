SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'analytics' AND t.name = 'events'
ORDER BY c.position;

DROP TABLE IF EXISTS `analytics`.`events__tau_stage_5816d300`;

CREATE TABLE `analytics`.`events__tau_stage_5816d300`
ENGINE = MergeTree()
ORDER BY tuple() AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'analytics' AND t.name = 'events__tau_stage_5816d300'
ORDER BY c.position;

DELETE FROM `analytics`.`events`
WHERE (toStartOfMonth(`updated_at`)) IN (SELECT toStartOfMonth(`updated_at`) FROM `analytics`.`events__tau_stage_5816d300`);

INSERT INTO `analytics`.`events` (`id`, `customer_id`, `kind`, `amount`, `updated_at`)
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`
FROM `analytics`.`events__tau_stage_5816d300` AS tau_s;

DROP TABLE IF EXISTS `analytics`.`events__tau_stage_5816d300`;
