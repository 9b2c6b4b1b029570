#!/bin/sh
# Installs what building and testing libiommu needs on Debian, when it is
# missing: as root it runs apt-get; otherwise it prints the exact command.
# Usage: scripts/ensure-deps.sh [--tests]   (--tests: also cmocka, valgrind)
set -eu

need=""
command -v cc >/dev/null 2>&1 || need="$need gcc"
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v make >/dev/null 2>&1 || need="$need make"
if [ "${1:-}" = "--tests" ]; then
	[ -f /usr/include/cmocka.h ] || need="$need libcmocka-dev"
	command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
	command -v clang-format >/dev/null 2>&1 || need="$need clang-format"
	command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
	command -v python3 >/dev/null 2>&1 || need="$need python3"
fi

[ -z "$need" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "ensure-deps: installing:$need" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq $need >/dev/null
else
	echo "ensure-deps: missing:$need" >&2
	echo "ensure-deps: run: sudo apt-get update && sudo apt-get install -y$need" >&2
	exit 1
fi
