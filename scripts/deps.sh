#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# deps.sh - install the Debian packages xdpha needs, if any is missing.
#
# Idempotent and quick when everything is present (one dpkg-query), so the
# Makefile calls it before every build. Installing needs root and apt.
set -euo pipefail

PKGS=(
	make gcc clang llvm pkg-config	# toolchain (clang -target bpf)
	bpftool				# vmlinux.h, skeletons, inspection
	libbpf-dev libxdp-dev		# loading, AF_XDP
	libelf-dev zlib1g-dev		# libbpf's own dependencies
	libcmocka-dev			# unit tests
	libjson-c-dev			# JSON output of the CLI
	libnl-3-dev libnl-route-3-dev	# neighbour table (MAC resolution)
	libconfig-dev			# the controller's configuration file
	libssl-dev			# HMAC of mirror frames (libcrypto)
	iproute2 ethtool nftables	# test topologies, fault injection
	iputils-ping util-linux		# ping, nsenter
	jq				# JSON checks in shell tests
	frr				# bfdd: BFD interoperability test
	keepalived			# VRRP baseline of the failover benchmark
)

missing=()
for p in "${PKGS[@]}"; do
	[[ $p == \#* ]] && continue
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[[ $status == ii* ]] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	[ "${1:-}" = "-v" ] && echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi

echo "deps: missing: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: run 'make deps' as root (apt-get install ${missing[*]})" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine may be empty or stale.
apt-get update -q || { echo "deps: apt-get update failed" >&2; exit 1; }
apt-get install -y -q --no-install-recommends "${missing[@]}"
