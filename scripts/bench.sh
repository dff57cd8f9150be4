#!/usr/bin/env bash
# `npm run bench:*`: set up what is missing, then run one benchmark (a compiled file under dist/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bench="$1"; shift
bash scripts/setup.sh
bash scripts/install-cometbft.sh abci-cli
export COMETBFT_BIN="$root/.tools/bin/cometbft"
export ABCI_CLI_BIN="$root/.tools/bin/abci-cli"
exec node "dist/${bench}" "$@"
