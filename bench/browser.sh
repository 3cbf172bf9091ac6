#!/usr/bin/env bash
# Benchmark: the fixture login in headless Chromium, with authchain's browser driver and with the
# same login scripted with playwright-core driving the same Debian Chromium, alternating in one
# run. Reports the wall time of each (end to end, process start included) and the peak memory of
# each tool's own process tree minus Chromium (authchain; node + playwright).
#   bash bench/browser.sh [RUNS]      (default 10)
# Needs: cargo, node, npm, python3, chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
cargo build --release --quiet
[ -d bench/node/node_modules/playwright-core ] || npm ci --prefix bench/node --no-audit --no-fund >&2
source scripts/chain.sh
export AUTHCHAIN_BENCH_PASSWORD=correct-horse-battery

authchain() {
  python3 bench/tree.py ./target/release/authchain login --driver browser --app "$CHAIN_APP" --provider fixture \
    --user alice --password-env AUTHCHAIN_BENCH_PASSWORD --probe "$CHAIN_APP/auth/session"
}
playwright() {
  python3 bench/tree.py node bench/node/login.mjs "$CHAIN_APP" alice "$AUTHCHAIN_BENCH_PASSWORD"
}

authchain >/dev/null; playwright >/dev/null   # warm up (disk cache, the app's code paths)
: >"$chain_work/results"
for _ in $(seq 1 "$runs"); do
  echo "authchain $(authchain)" >>"$chain_work/results"
  echo "playwright $(playwright)" >>"$chain_work/results"
done

python3 - "$chain_work/results" "$runs" <<'PY'
import statistics, sys
rows = {"authchain": [], "playwright": []}
for line in open(sys.argv[1]):
    tool, secs, kib = line.split()
    rows[tool].append((float(secs), int(kib)))
print(f"runs: {sys.argv[2]} of each, alternating")
for tool, r in rows.items():
    t = [x[0] for x in r]; m = [x[1] for x in r]
    print(f"{tool:<10} wall median {statistics.median(t)*1000:7.0f} ms (min {min(t)*1000:.0f}, max {max(t)*1000:.0f})"
          f"   tree minus Chromium: median {statistics.median(m)/1024:6.1f} MiB (max {max(m)/1024:.1f})")
a, p = rows["authchain"], rows["playwright"]
print(f"ratio wall authchain/playwright: {statistics.median([x[0] for x in a]) / statistics.median([x[0] for x in p]):.2f}")
print(f"ratio memory authchain/playwright: {statistics.median([x[1] for x in a]) / statistics.median([x[1] for x in p]):.2f}")
PY
