#!/usr/bin/env bash
# Builds a minimal base image from this machine's own Node.js and the C libraries it and the project's native
# binaries (CometBFT, anvil, libsecp256k1, LevelDB) link against, for machines that cannot pull images from a
# registry. The result has no shell and no package manager: only what the node image runs.
#
#   testnet/docker/base-from-host.sh [TAG]     (default torus-base:local)
set -euo pipefail
tag="${1:-torus-base:local}"
command -v docker >/dev/null || { echo "base-from-host: docker is not installed" >&2; exit 1; }
node_bin="$(command -v node)" || { echo "base-from-host: node is not installed" >&2; exit 1; }
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/tmp" "$root/etc" "$root/root"
chmod 1777 "$root/tmp"
cp "$node_bin" "$root/usr/local/bin/node"
# Every shared library node needs (the others need a subset: libc, libm, libgcc_s, libstdc++, libpthread).
ldd "$node_bin" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
echo 'root:x:0:0:root:/root:/usr/local/bin/node' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
tar -C "$root" -c . | docker import - "$tag" >/dev/null
echo "built $tag from $node_bin ($(node --version))"
