#!/usr/bin/env bash
# Install the Debian packages Torsion needs to build and test, and only those that are missing.
# Idempotent and silent when everything is already there. Runs as root (no sudo) on Debian bookworm.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  liburing-dev libboost1.81-dev catch2 libbenchmark-dev
  python3-twisted
  clang libclang-rt-14-dev
  valgrind
)

missing=()
for p in "${packages[@]}"; do
  # dpkg -s succeeds for removed-but-not-purged packages too, so require "install ok installed".
  status="$(dpkg -s "$p" 2>/dev/null || true)"
  if ! grep -q '^Status: install ok installed$' <<<"$status"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if ((EUID != 0)); then
  echo "deps.sh: missing packages: ${missing[*]}; run this script as root to install them" >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "deps.sh: done"
