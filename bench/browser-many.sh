#!/usr/bin/env bash
# Benchmark: many browser logins. `authchain run -j 1` and `-j 4` over N browser scenarios of
# the fixture login (one Chromium for the run, a fresh browser context per scenario), against
# playwright-core running the same N logins 4 at a time in contexts of one browser
# (`node/many.mjs`). Wall time of each and the peak memory of each tool's own process tree
# minus Chromium (`tree.py`: authchain; node + playwright), alternating.
#   bash bench/browser-many.sh [N] [RUNS]     (defaults 20 and 3)
# Needs: cargo, node, npm, python3, chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
runs=${2:-3}
cargo build --release --quiet
[ -d bench/node/node_modules/playwright-core ] || npm ci --prefix bench/node --no-audit --no-fund >&2
source scripts/chain.sh
export AUTHCHAIN_BENCH_PASSWORD=correct-horse-battery
files=()
for i in $(seq 1 "$n"); do
  f="$chain_work/login-$i.toml"
  sed -e 's/^timeout = .*/timeout = "20s"\ndriver = "browser"/' scenarios/fixture-login.toml >"$f"
  files+=("$f")
done
export AUTHCHAIN_APP="$CHAIN_APP" AUTHCHAIN_PROVIDER=fixture AUTHCHAIN_USER=alice AUTHCHAIN_PASSWORD="$AUTHCHAIN_BENCH_PASSWORD"
ours() { python3 bench/tree.py ./target/release/authchain run -j "$1" "${files[@]}"; }
theirs() { python3 bench/tree.py node bench/node/many.mjs "$CHAIN_APP" alice "$AUTHCHAIN_BENCH_PASSWORD" "$n" 4; }

ours 4 >/dev/null; theirs >/dev/null   # warm up
: >"$chain_work/results"
for _ in $(seq 1 "$runs"); do
  echo "authchain-j1 $(ours 1 | tail -1)" >>"$chain_work/results"
  echo "authchain-j4 $(ours 4 | tail -1)" >>"$chain_work/results"
  echo "playwright-4-contexts $(theirs | tail -1)" >>"$chain_work/results"
done
python3 - "$chain_work/results" "$n" "$runs" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    tool, secs, kib = line.split()
    rows.setdefault(tool, []).append((float(secs), int(kib)))
print(f"{sys.argv[2]} logins; runs: {sys.argv[3]} of each, alternating")
for tool, r in rows.items():
    t = [x[0] for x in r]; m = [x[1] for x in r]
    print(f"{tool:<22} wall median {statistics.median(t):6.2f} s (min {min(t):.2f}, max {max(t):.2f})"
          f"   tree minus Chromium: median {statistics.median(m)/1024:6.1f} MiB (max {max(m)/1024:.1f})")
med = lambda k: statistics.median([x[0] for x in rows[k]])
print(f"ratio wall authchain -j 4 / playwright: {med('authchain-j4') / med('playwright-4-contexts'):.2f}")
PY
