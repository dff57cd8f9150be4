#!/usr/bin/env bash
# Installs the pinned CometBFT into .tools/bin with `go install`, unless that exact version is already there.
# CometBFT is an external binary: the mapping process (torus-abci) is the application behind it.
#   bash scripts/install-cometbft.sh            cometbft
#   bash scripts/install-cometbft.sh abci-cli   also abci-cli (its kvstore over the ABCI socket is a benchmark baseline)
set -euo pipefail

COMETBFT_VERSION="v0.38.25"
MIN_GO="1.22"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.tools/bin"
target="$bin_dir/cometbft"

want_abci_cli=0
[ "${1:-}" = "abci-cli" ] && want_abci_cli=1
abci_cli="$bin_dir/abci-cli"
abci_cli_stamp="$bin_dir/.abci-cli-${COMETBFT_VERSION}"

need_cometbft=1
if [ -x "$target" ] && [ "$("$target" version 2>/dev/null)" = "${COMETBFT_VERSION#v}" ]; then
  need_cometbft=0
fi
need_abci_cli=0
if [ "$want_abci_cli" = 1 ] && ! { [ -x "$abci_cli" ] && [ -f "$abci_cli_stamp" ]; }; then
  need_abci_cli=1
fi
if [ "$need_cometbft" = 0 ] && [ "$need_abci_cli" = 0 ]; then
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<MSG
error: CometBFT ${COMETBFT_VERSION} is required and is built from source with Go, but 'go' is not on PATH.
  Install Go ${MIN_GO} or newer (https://go.dev/doc/install; Debian bookworm's golang-go is too old),
  then run this command again. Alternatively put a cometbft ${COMETBFT_VERSION#v} binary at:
  ${target}
MSG
  exit 1
fi

go_version="$(go env GOVERSION | sed 's/^go//')"
if [ "$(printf '%s\n%s\n' "$MIN_GO" "$go_version" | sort -V | head -n1)" != "$MIN_GO" ]; then
  echo "error: CometBFT ${COMETBFT_VERSION} needs Go >= ${MIN_GO}; found Go ${go_version}. Upgrade Go and run again." >&2
  exit 1
fi

mkdir -p "$bin_dir"

go_install() {
  local package="$1"
  if ! GOBIN="$bin_dir" GOFLAGS=-buildvcs=false go install "${package}@${COMETBFT_VERSION}"; then
    cat >&2 <<MSG
error: 'go install ${package}@${COMETBFT_VERSION}' failed (see above).
  It needs the Go module proxy (GOPROXY, default https://proxy.golang.org). If your Go is much newer
  than CometBFT supports, retry with an older toolchain: GOTOOLCHAIN=go1.23.12 bash scripts/install-cometbft.sh
MSG
    exit 1
  fi
}

if [ "$need_cometbft" = 1 ]; then
  echo "Installing CometBFT ${COMETBFT_VERSION} into .tools/bin (go install; about a minute on first run)..." >&2
  go_install github.com/cometbft/cometbft/cmd/cometbft
  echo "CometBFT $("$target" version) installed at $target" >&2
fi
if [ "$need_abci_cli" = 1 ]; then
  echo "Installing abci-cli ${COMETBFT_VERSION} into .tools/bin (benchmark baseline)..." >&2
  go_install github.com/cometbft/cometbft/abci/cmd/abci-cli
  touch "$abci_cli_stamp"
fi
