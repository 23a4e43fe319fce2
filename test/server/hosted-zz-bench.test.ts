import { it } from "vitest";
import { startDaemon, tempHome } from "/work/main/test/server/helpers/daemon";
import { startHosted, token } from "/work/main/test/server/hosted-helpers";
import { compileTokenConfig, verifyToken, issueToken } from "/work/main/server/auth";

it("bench", async () => {
  const cfg = compileTokenConfig({ secret: "x".repeat(40) });
  const t = issueToken(cfg, { tenant: "a", role: "admin", ttlSec: 600 }).token;
  let s = performance.now();
  for (let i = 0; i < 20000; i++) verifyToken(t, cfg);
  console.log("verify HS256 µs/op", ((performance.now() - s) * 1000 / 20000).toFixed(1));
  for (const mode of ["local", "hosted"]) {
    const h = tempHome();
    const d = mode === "local" ? await startDaemon(h.home) : await startHosted(h.home);
    const headers = mode === "hosted" ? { authorization: `Bearer ${token("admin", "admin")}` } : {};
    for (let i = 0; i < 200; i++) await (await fetch(`${d.url}/api/pipelines`, { headers })).text();
    s = performance.now();
    const N = 3000;
    for (let i = 0; i < N; i++) await (await fetch(`${d.url}/api/pipelines`, { headers })).text();
    console.log(mode, "GET /api/pipelines req/s (sequential)", (N / ((performance.now() - s) / 1000)).toFixed(0));
    await d.close(); h.remove();
  }
}, 120000);
