SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'analytics' AND t.name = 'orders'
ORDER BY c.position;

DROP TABLE IF EXISTS `analytics`.`orders__tau_new_48981c5f`;

CREATE TABLE `analytics`.`orders__tau_new_48981c5f`
ENGINE = MergeTree()
ORDER BY tuple() AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

RENAME TABLE `analytics`.`orders__tau_new_48981c5f` TO `analytics`.`orders`;

SELECT COUNT(*) AS n FROM `analytics`.`orders`;
