import { ConnectorHost } from "./runtime/connectors";
import { LOCAL_POLICY } from "./policies";
(async () => {
  const host = new ConnectorHost();
  const db = await host.open("duckdb_local", { path: ":memory:" }, { dataDir: "/tmp", policy: LOCAL_POLICY, limits: LOCAL_POLICY.limits });
  await db.call("execute", ["CREATE TABLE keep (id BIGINT PRIMARY KEY, v VARCHAR)"]);
  await db.call("load", [[{ id: 1, v: "a" }], { table: "keep" }]);
  try { await db.call("load", [[{ id: 3, v: "c" }, { id: 1, v: "again" }], { table: "keep" }]); } catch (e) { console.log(e); }
  await db.close(); host.close();
})();
