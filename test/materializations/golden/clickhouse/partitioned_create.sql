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

SELECT `id`, COUNT(*) AS tau_rows
FROM `analytics`.`events__tau_stage_5816d300`
GROUP BY `id`
HAVING COUNT(*) > 1
LIMIT 5;

CREATE TABLE `analytics`.`events`
ENGINE = MergeTree()
PARTITION BY toDate(`updated_at`)
ORDER BY (`customer_id`, `kind`)
TTL toDateTime(`updated_at`) + INTERVAL 90 DAY AS
SELECT * FROM `analytics`.`events__tau_stage_5816d300`;

SELECT COUNT(*) AS n FROM `analytics`.`events`;

DELETE FROM `analytics`.`events`
WHERE `updated_at` < toDateTime64('2025-12-15 00:00:00.000', 3, 'UTC');

DROP TABLE IF EXISTS `analytics`.`events__tau_stage_5816d300`;
