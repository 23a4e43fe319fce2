SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'analytics' AND t.name = 'orders'
ORDER BY c.position;

DROP TABLE IF EXISTS `analytics`.`orders__tau_stage_48981c5f`;

CREATE TABLE `analytics`.`orders__tau_stage_48981c5f`
ENGINE = MergeTree()
ORDER BY tuple() AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source
WHERE (SELECT MAX(`updated_at`) FROM `analytics`.`orders`) IS NULL OR tau_source.`updated_at` > (SELECT MAX(`updated_at`) FROM `analytics`.`orders`);

SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'analytics' AND t.name = 'orders__tau_stage_48981c5f'
ORDER BY c.position;

SELECT `id`, COUNT(*) AS tau_rows
FROM `analytics`.`orders__tau_stage_48981c5f`
GROUP BY `id`
HAVING COUNT(*) > 1
LIMIT 5;

ALTER TABLE `analytics`.`orders` ADD COLUMN `email` String;

DELETE FROM `analytics`.`orders`
WHERE (`id`) IN (SELECT `id` FROM `analytics`.`orders__tau_stage_48981c5f`);

INSERT INTO `analytics`.`orders` (`id`, `customer_id`, `kind`, `amount`, `updated_at`, `email`)
SELECT `id`, `customer_id`, `kind`, `amount`, `updated_at`, `email`
FROM `analytics`.`orders__tau_stage_48981c5f`;

DROP TABLE IF EXISTS `analytics`.`orders__tau_stage_48981c5f`;
