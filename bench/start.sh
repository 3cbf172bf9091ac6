#!/usr/bin/env bash
# Benchmark: the process's start, `authchain --version`, next to `hurl --version` and
# `curl --version` (hyperfine, no shell in between).
#   bash bench/start.sh [RUNS]       (default 200)
# Needs: hyperfine, hurl, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
cargo build --release --quiet
hyperfine --style basic -N --warmup 20 --runs "$runs" \
  -n authchain "./target/release/authchain --version" \
  -n hurl "hurl --version" \
  -n curl "curl --version"
