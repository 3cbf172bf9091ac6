#!/usr/bin/env bash
# Benchmark: the fixture login over HTTP (about 10 hops and 2 probes), with authchain and, in the
# same run and alternating with it, the same requests made by curl. Reports authchain's wall time
# (process start included) next to the servers' own time (the sum of curl's time to first byte
# over the same requests), their ratio, and authchain's peak memory.
#   bash bench/login.sh [RUNS]        (default 30)
# Needs: cargo, node, curl, python3, /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
cargo build --release --quiet
source scripts/chain.sh
bin=./target/release/authchain
user=alice
export AUTHCHAIN_BENCH_PASSWORD=correct-horse-battery

# One login with curl, hop by hop as authchain makes it; prints the sum of time_starttransfer.
curl_login() {
  local jar="$chain_work/jar" h="$chain_work/h" b="$chain_work/b" total=0 t loc url
  rm -f "$jar"
  req() { # method url [curl args…]; sets t (TTFB) and loc (Location)
    local m=$1 u=$2; shift 2
    t=$(curl -s -X "$m" -o "$b" -D "$h" -b "$jar" -c "$jar" -w '%{time_starttransfer}' "$@" "$u")
    loc=$(sed -n 's/^[Ll]ocation: *\(.*\)\r$/\1/p' "$h")
    total=$(python3 -c "print($total + $t)")
  }
  abs() { case "$1" in http*) echo "$1" ;; *) echo "$CHAIN_IDP$1" ;; esac; }
  req POST "$CHAIN_APP/api/auth/sign-in/social" -H "Origin: $CHAIN_APP" -H 'Content-Type: application/json' \
    -d "{\"provider\":\"fixture\",\"callbackURL\":\"$CHAIN_APP/\"}"
  req GET "$loc"; url=$(abs "$loc")               # authorize → interaction
  req GET "$url"                                  # login form
  req POST "$url/login" -d "flow=login&username=$user&password=$AUTHCHAIN_BENCH_PASSWORD"
  req GET "$(abs "$loc")"; url=$(abs "$loc")      # resume → consent interaction
  req GET "$url"                                  # consent form
  req POST "$url/confirm" -d "decision=allow"
  req GET "$(abs "$loc")"                         # resume → callback
  req GET "$loc"                                  # callback
  req GET "$CHAIN_APP/"
  req GET "$CHAIN_APP/api/auth/get-session"
  req GET "$CHAIN_APP/auth/session"
  grep -q '"user"' "$b" || { echo "the curl login did not reach a session" >&2; exit 1; }
  echo "$total"
}

authchain_login() { # prints "seconds peak_kib"
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$chain_work/rss" "$bin" login --app "$CHAIN_APP" --provider fixture --user "$user" \
    --password-env AUTHCHAIN_BENCH_PASSWORD --probe "$CHAIN_APP/auth/session" >/dev/null
  end=$(date +%s.%N)
  echo "$(python3 -c "print($end - $start)") $(cat "$chain_work/rss")"
}

# Warm up both sides (the app's first requests compile code paths).
curl_login >/dev/null; authchain_login >/dev/null; curl_login >/dev/null; authchain_login >/dev/null

: >"$chain_work/results"
for _ in $(seq 1 "$runs"); do
  echo "authchain $(authchain_login)" >>"$chain_work/results"
  echo "curl $(curl_login)" >>"$chain_work/results"
done

python3 - "$chain_work/results" "$runs" <<'PY'
import statistics, sys
a, c, rss = [], [], []
for line in open(sys.argv[1]):
    parts = line.split()
    if parts[0] == "authchain":
        a.append(float(parts[1])); rss.append(int(parts[2]))
    else:
        c.append(float(parts[1]))
ma, mc = statistics.median(a), statistics.median(c)
print(f"runs: {sys.argv[2]} of each, alternating")
print(f"authchain wall time (process included): median {ma*1000:.1f} ms  (min {min(a)*1000:.1f}, max {max(a)*1000:.1f})")
print(f"servers' time (sum of curl TTFB):        median {mc*1000:.1f} ms  (min {min(c)*1000:.1f}, max {max(c)*1000:.1f})")
print(f"ratio authchain / servers: {ma/mc:.2f}  (authchain adds {(ma/mc-1)*100:.0f}%)")
print(f"authchain peak RSS: median {statistics.median(rss)/1024:.1f} MiB, max {max(rss)/1024:.1f} MiB")
PY
