SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'analytics' AND t.name = 'v_orders'
ORDER BY c.position;

DROP TABLE IF EXISTS `analytics`.`v_orders`;

CREATE OR REPLACE VIEW `analytics`.`v_orders` AS
SELECT * FROM raw.orders;
