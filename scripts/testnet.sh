#!/usr/bin/env bash
# `npm run testnet`: set up what is missing (npm packages, CometBFT, build), then run the local network.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export COMETBFT_BIN="$root/.tools/bin/cometbft"
exec node dist/testnet/src/main.js "$@"
