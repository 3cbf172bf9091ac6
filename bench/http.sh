#!/usr/bin/env bash
# Benchmark: authchain next to Hurl sending the same requests, alternating in one run.
#   login   the fixture login over HTTP with two probes (BetterAuth's get-session and the app's
#           guarded endpoint): hurl/login.hurl is that login request for request
#   matrix  the same against a guard that refuses the session (GUARD=bearer-only): authchain
#           also replays the session seven ways to both endpoints (the differential matrix), and
#           hurl/login.hurl + hurl/matrix.hurl send the same 14 replays
# Wall time and each process's peak RSS: bench/alternate.py (three warm-up runs of each, then
# RUNS runs of each, alternating, so that both meet the servers in the same state).
#   bash bench/http.sh [RUNS]        (default 30)
# Needs: hurl (`cargo install hurl --locked`, which builds against libcurl and libclang:
# `apt-get install libcurl4-openssl-dev libclang-dev`), node, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
if [ -z "${BENCH_CASE:-}" ]; then
  command -v hurl >/dev/null || { echo "bench/http.sh needs hurl (see the script's header)" >&2; exit 2; }
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(hurl --version | head -1)"
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
python3 bench/alternate.py "$runs" "authchain=$ours" "hurl=$theirs"
