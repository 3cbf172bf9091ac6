#!/usr/bin/env bash
# Benchmark: authchain next to Hurl sending the same requests, alternating in one run.
#   login   the fixture login over HTTP with two probes (BetterAuth's get-session and the app's
#           guarded endpoint): hurl/login.hurl is that login request for request
#   matrix  the same against a guard that refuses the session (GUARD=bearer-only): authchain
#           also replays the session seven ways to both endpoints (the differential matrix), and
#           hurl/login.hurl + hurl/matrix.hurl send the same 14 replays
# Wall time: hyperfine (warm-up, then RUNS runs of each, interleaved); memory: the median and
# the largest peak RSS of 10 runs of each under /usr/bin/time.
#   bash bench/http.sh [RUNS]        (default 30)
# Needs: hurl (`cargo install hurl --locked`, which builds against libcurl:
# `apt-get install libcurl4-openssl-dev`), hyperfine, node, python3, /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
if [ -z "${BENCH_CASE:-}" ]; then
  for tool in hurl hyperfine; do
    command -v "$tool" >/dev/null || { echo "bench/http.sh needs $tool (see the script's header)" >&2; exit 2; }
  done
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(hurl --version | head -1); $(hyperfine --version)"
  BENCH_CASE=login bash "$0" "$runs"
  BENCH_CASE=matrix GUARD=bearer-only bash "$0" "$runs"
  exit 0
fi
cargo build --release --quiet
source scripts/chain.sh
bin=$PWD/target/release/authchain
export AUTHCHAIN_BENCH_PASSWORD=correct-horse-battery
hurl_file=$chain_work/case.hurl
cat bench/hurl/login.hurl >"$hurl_file"
if [ "$BENCH_CASE" = matrix ]; then
  cat bench/hurl/matrix.hurl >>"$hurl_file"
fi
ours="$bin login --app $CHAIN_APP --provider fixture --user alice --password-env AUTHCHAIN_BENCH_PASSWORD --probe $CHAIN_APP/auth/session"
theirs="hurl --variable app=$CHAIN_APP --variable idp=$CHAIN_IDP --variable user=alice --variable password=$AUTHCHAIN_BENCH_PASSWORD $hurl_file"

# Both must do what they claim: authchain's verdict, Hurl's asserts.
want=0
[ "$BENCH_CASE" = matrix ] && want=1
set +e
$ours >"$chain_work/ours.txt"; got=$?
set -e
[ "$got" = "$want" ] || { echo "authchain exited $got, not $want:" >&2; cat "$chain_work/ours.txt" >&2; exit 1; }
if [ "$BENCH_CASE" = matrix ]; then
  grep -q '^guard-validates-differently:' "$chain_work/ours.txt" || { echo "no matrix finding" >&2; exit 1; }
fi
$theirs >/dev/null

echo "case: $BENCH_CASE"
hyperfine --style basic --warmup 3 --runs "$runs" -i -N \
  --export-json "$chain_work/wall.json" -n authchain "$ours" -n hurl "$theirs" >/dev/null
rss() { # command…: the peak RSS in KiB of 10 runs, as "median max"
  for _ in $(seq 1 10); do
    /usr/bin/time -f '%M' -o "$chain_work/rss1" "$@" >/dev/null 2>&1 || true
    cat "$chain_work/rss1"
  done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)], a[NR]}'
}
read -r ours_rss ours_max <<<"$(rss $ours)"
read -r theirs_rss theirs_max <<<"$(rss $theirs)"
python3 - "$chain_work/wall.json" "$ours_rss" "$ours_max" "$theirs_rss" "$theirs_max" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
a, h = r["authchain"], r["hurl"]
med = lambda x: x["median"] * 1000
print(f"  authchain wall median {med(a):7.1f} ms (min {a['min']*1000:.1f}, max {a['max']*1000:.1f})   peak RSS median {int(sys.argv[2])/1024:.1f} MiB (max {int(sys.argv[3])/1024:.1f})")
print(f"  hurl      wall median {med(h):7.1f} ms (min {h['min']*1000:.1f}, max {h['max']*1000:.1f})   peak RSS median {int(sys.argv[4])/1024:.1f} MiB (max {int(sys.argv[5])/1024:.1f})")
print(f"  ratio wall authchain/hurl: {med(a)/med(h):.2f}   ratio RSS: {int(sys.argv[2])/int(sys.argv[4]):.2f}")
PY
