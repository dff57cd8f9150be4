#!/usr/bin/env bash
# Brings a fresh clone to a runnable state: Node version check, npm packages from the lockfile, the pinned
# CometBFT binary, and the TypeScript build. Every entry point (tests, local network, benchmarks) runs it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v node >/dev/null 2>&1; then
  echo "error: Node.js >= 20.19 is required but 'node' is not on PATH." >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "error: Node.js >= 20.19 is required; found $(node --version)." >&2
  exit 1
fi

# npm packages: install from the lockfile when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm packages from package-lock.json..." >&2
  npm ci --no-audit --no-fund >&2
fi

bash scripts/install-cometbft.sh

echo "Building TypeScript and the dashboard page..." >&2
rm -rf dist
# npm run build: tsc, the page's type check, and its browser bundle (dashboard/scripts/bundle.ts).
npm run --silent build >&2
