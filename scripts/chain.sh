# Sourced, not run: starts the real test chain on loopback (the fixture IdP and the fixture app)
# and stops it when the sourcing script exits, however it ends. Afterwards CHAIN_APP and CHAIN_IDP
# hold their origins. Switches: GUARD, BA_LINE, SECURE_COOKIES, STATELESS (tests/fixtures/README.md).

chain_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v node >/dev/null 2>&1 || { echo "Node.js is needed: run scripts/test.sh once, or apt-get install nodejs npm" >&2; exit 2; }
[ -d "$chain_dir/tests/fixtures/node_modules/better-auth" ] || npm ci --prefix "$chain_dir/tests/fixtures" --no-audit --no-fund >&2

chain_work=$(mktemp -d)
chain_pids=()
chain_stop() {
  for p in "${chain_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$chain_work"
}
trap chain_stop EXIT INT TERM

# Waits for a server's READY line and prints its port.
chain_ready_port() {
  for _ in $(seq 1 600); do
    if grep -q '^READY' "$chain_work/$1.out" 2>/dev/null; then
      sed -n 's/^READY {"port":\([0-9]*\)}$/\1/p' "$chain_work/$1.out"
      return 0
    fi
    sleep 0.1
  done
  echo "the test chain's $1 did not start; its log:" >&2
  cat "$chain_work/$1.err" >&2
  exit 3
}

chain_app_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CHAIN_APP="http://localhost:$chain_app_port"

# The servers exit when their stdin closes. The sourcing shell holds the only writer of their
# stdin pipe, so they stop with it.
mkfifo "$chain_work/stdin"
exec 3<>"$chain_work/stdin"
(cd "$chain_dir/tests/fixtures" && APP_ORIGIN="$CHAIN_APP" exec node idp.mjs <"$chain_work/stdin" >"$chain_work/idp.out" 2>"$chain_work/idp.err") &
chain_pids+=($!)
CHAIN_IDP="http://127.0.0.1:$(chain_ready_port idp)"
(cd "$chain_dir/tests/fixtures" && PORT="$chain_app_port" IDP_ISSUER="$CHAIN_IDP" exec node app.mjs \
  <"$chain_work/stdin" >"$chain_work/app.out" 2>"$chain_work/app.err") &
chain_pids+=($!)
chain_ready_port app >/dev/null
