#!/usr/bin/env bash
# Tau's main job on its embedded defaults: start taud (SQLite state + DuckDB warehouse under TAU_HOME),
# deploy the example pipelines and run them in dependency order. No server needed.
#   bash scripts/demo.sh          leave the daemon running afterwards (tau status, tau list, …)
#   bash scripts/demo.sh --stop   stop the daemon it started when done (used by CI)
set -euo pipefail
cd "$(dirname "$0")/.."
stop_after=0
[ "${1:-}" = "--stop" ] && stop_after=1

export TAU_HOME="${TAU_HOME:-$HOME/.tau}"
port="${TAU_PORT:-7070}"
export TAU_HOST="${TAU_HOST:-http://127.0.0.1:$port}"
mkdir -p "$TAU_HOME"
tau() { node dist/cli/bin.js "$@"; }

[ -f dist/cli/bin.js ] || npm run build

started_pid=""
if tau status >/dev/null 2>&1; then
  echo "demo: taud already answers at $TAU_HOST" >&2
else
  echo "demo: starting taud (home $TAU_HOME, port $port; log $TAU_HOME/taud.log)" >&2
  nohup node dist/server/bin.js --home "$TAU_HOME" --port "$port" >>"$TAU_HOME/taud.log" 2>&1 &
  started_pid=$!
  for _ in $(seq 1 100); do
    tau status >/dev/null 2>&1 && break
    kill -0 "$started_pid" 2>/dev/null || { echo "demo: taud exited; see $TAU_HOME/taud.log" >&2; tail -20 "$TAU_HOME/taud.log" >&2; exit 1; }
    sleep 0.2
  done
  tau status >/dev/null
fi

cleanup() {
  if [ "$stop_after" = 1 ] && [ -n "$started_pid" ]; then
    kill -TERM "$started_pid" 2>/dev/null || true
    wait "$started_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

for name in seed_raw stage_orders daily_revenue customer_ltv warehouse_models; do
  echo "demo: deploy examples/$name.ts" >&2
  tau deploy "examples/$name.ts" >/dev/null
done
for name in seed_raw stage_orders daily_revenue customer_ltv warehouse_models; do
  echo "demo: run $name" >&2
  tau run "$name" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const r = JSON.parse(s);
      const steps = r.steps.map((x) => `${x.name}:${x.status}(${x.durationMs}ms)`).join(" ");
      process.stderr.write(`  ${r.pipeline} ${r.status} in ${r.durationMs} ms — ${steps}\n  result ${JSON.stringify(r.result)}\n`);
      if (r.status !== "succeeded") process.exit(1);
    });'
done
tau list
if [ "$stop_after" = 0 ]; then
  echo "demo: taud keeps running at $TAU_HOST — try: npx tau inspect daily_revenue --last-run" >&2
fi
