#!/usr/bin/env bash
# `npm test`: set up what is missing, then run every test (unit tests and integration tests against real
# CometBFT processes on loopback). Test files run one at a time: integration tests start several
# CometBFT and torus-abci processes and would starve each other on a small machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export COMETBFT_BIN="$root/.tools/bin/cometbft"
if [ "$#" -gt 0 ]; then
  exec node --test --test-concurrency=1 "$@"
fi
# Only *.test.js files are tests; helper modules next to them are not.
mapfile -t files < <(find dist -name '*.test.js' | sort)
exec node --test --test-concurrency=1 "${files[@]}"
