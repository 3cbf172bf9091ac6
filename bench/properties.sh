#!/usr/bin/env bash
# Runs the property tests (src/properties.rs) with a larger budget than `cargo test` gives them:
# every parser that faces the network or the user never panics, no encoding of a secret
# survives the scrub, and the encodings round-trip. CASES (default 3000) cases per property.
#
#   bash bench/properties.sh            # 3000 cases per property
#   CASES=20000 bash bench/properties.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PROPTEST_CASES="${CASES:-3000}" cargo test --release --lib properties -- --test-threads 2
