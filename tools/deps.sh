#!/usr/bin/env bash
# Installs the Debian packages sgt needs, or says exactly how to.
# usage: tools/deps.sh [extra-package ...]
# As root it runs apt-get; otherwise it prints the command and exits 1 if anything is missing.
set -euo pipefail

# make: .clusterfuzzlite/build.sh uses CMake's default generator, as OSS-Fuzz does (found on a
# bare bookworm chroot, where the OSS-Fuzz build test failed without it).
packages=(cmake ninja-build make gcc g++ clang llvm libclang-rt-14-dev binutils pkgconf
	  libgtest-dev libbenchmark-dev librapidcheck-dev "$@")

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
	echo "sgt: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	echo "sgt: missing Debian packages: ${missing[*]}" >&2
	echo "sgt: run as root:  $cmd" >&2
	echo "sgt: (or:          sudo sh -c '$cmd')" >&2
	exit 1
fi
