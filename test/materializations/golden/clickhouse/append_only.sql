SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'raw' AND t.name = 'api_logs'
ORDER BY c.position;

DROP TABLE IF EXISTS `raw`.`api_logs__tau_stage_68f975bb`;

CREATE TABLE `raw`.`api_logs__tau_stage_68f975bb`
ENGINE = MergeTree()
ORDER BY tuple() AS
SELECT * FROM (
SELECT * FROM raw.orders
) AS tau_source;

SELECT t.engine AS kind, c.name AS column_name, c.type AS data_type
FROM system.tables AS t
LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
WHERE t.database = 'raw' AND t.name = 'api_logs__tau_stage_68f975bb'
ORDER BY c.position;

INSERT INTO `raw`.`api_logs` (`id`, `customer_id`, `kind`, `amount`, `updated_at`)
SELECT tau_s.`id`, tau_s.`customer_id`, tau_s.`kind`, tau_s.`amount`, tau_s.`updated_at`
FROM `raw`.`api_logs__tau_stage_68f975bb` AS tau_s
LEFT ANTI JOIN `raw`.`api_logs` AS tau_t ON isNotDistinctFrom(tau_t.`id`, tau_s.`id`) AND isNotDistinctFrom(tau_t.`customer_id`, tau_s.`customer_id`) AND isNotDistinctFrom(tau_t.`kind`, tau_s.`kind`) AND isNotDistinctFrom(tau_t.`amount`, tau_s.`amount`) AND isNotDistinctFrom(tau_t.`updated_at`, tau_s.`updated_at`);

DROP TABLE IF EXISTS `raw`.`api_logs__tau_stage_68f975bb`;
