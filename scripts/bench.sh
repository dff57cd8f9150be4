#!/usr/bin/env bash
# `npm run bench:*`: set up what is missing, then run one benchmark (a compiled file under dist/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
with_abci_cli=0
if [ "${1:-}" = "--with-abci-cli" ]; then with_abci_cli=1; shift; fi
bench="$1"; shift
bash scripts/setup.sh
# bench:abci compares against kvstore served by abci-cli; other benchmarks do not need it.
[ "$with_abci_cli" = 1 ] && bash scripts/install-cometbft.sh abci-cli
export COMETBFT_BIN="$root/.tools/bin/cometbft"
export ABCI_CLI_BIN="$root/.tools/bin/abci-cli"
exec node "dist/${bench}" "$@"
