#!/usr/bin/env bash
# Runs every test on a fresh Debian machine: installs what is missing (Chromium and its driver,
# Node.js, faketime, the test chain's npm packages), then runs `cargo test`. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# A clock shim for the IdP process (a clock behind the app's).
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi

# The test chain's packages, exactly as locked.
for pkg in oidc-provider better-auth better-auth-16 express @auth/express @auth/unstorage-adapter unstorage express-openid-connect; do
  if [ ! -d "tests/fixtures/node_modules/$pkg" ]; then
    npm ci --prefix tests/fixtures --no-audit --no-fund
    break
  fi
done

cargo test "$@"
