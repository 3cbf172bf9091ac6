#!/usr/bin/env bash
# The main job until the built-in demo exists: installs the test chain's packages if missing,
# starts the real chain on loopback (the oidc-provider IdP and an Express app on BetterAuth),
# runs the example scenario against it with authchain, and stops the chain.
#   GUARD=bearer-only scripts/example.sh   shows the founding incident (exit 1, by design).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
source scripts/chain.sh

set +e
AUTHCHAIN_APP="$CHAIN_APP" AUTHCHAIN_PROVIDER=fixture AUTHCHAIN_USER=alice AUTHCHAIN_PASSWORD=correct-horse-battery \
  ./target/release/authchain run scenarios/fixture-login.toml "$@"
code=$?
set -e
exit "$code"
