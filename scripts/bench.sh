#!/usr/bin/env bash
# `npm run bench:*`: set up what is missing, then run one benchmark (a compiled file under dist/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bench="$1"; shift
bash scripts/setup.sh
export COMETBFT_BIN="$root/.tools/bin/cometbft"
exec node "dist/${bench}" "$@"
