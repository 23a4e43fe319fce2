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
) AS tau_source;

SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'analytics' AND t.name = 'orders__tau_stage_48981c5f'
ORDER BY c.position;

DELETE FROM `analytics`.`orders`
WHERE (`id`, `customer_id`) IN (SELECT `id`, `customer_id` FROM `analytics`.`orders__tau_stage_48981c5f`);

INSERT INTO `analytics`.`orders` (`id`, `customer_id`, `kind`, `amount`, `updated_at`)
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`
FROM `analytics`.`orders__tau_stage_48981c5f` AS tau_s;

DROP TABLE IF EXISTS `analytics`.`orders__tau_stage_48981c5f`;
