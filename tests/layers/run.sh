#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The source folders depend on each other one way only (README "Layout"):
#
#   common/     nothing of ours (logging, the IPv6 prefix parser, the
#               parsed configuration's types)
#   bpf/        itself and vmlinux/ (the programs and the headers they
#               share with userspace)
#   dataplane/  common/, bpf/ (the data plane's userspace side)
#   broker/     common/, bpf/, dataplane/
#   cli/        all of the above (the tspgw command and its config parser)
#   client/     common/ (tspc)
#
# Every include of ours names its folder from the repository root, so
# this reads each quoted include and fails on one that points up or
# sideways, or on one without a folder (which would resolve by search
# order, and let one folder's header shadow another's).
set -u
cd "$(dirname "$0")/../.."

allowed() {
	case "$1" in
	common) echo "common" ;;
	bpf) echo "bpf vmlinux" ;;
	dataplane) echo "common bpf dataplane" ;;
	broker) echo "common bpf dataplane broker" ;;
	cli) echo "common bpf dataplane broker cli" ;;
	client) echo "common client" ;;
	esac
}

bad=0 checked=0
for dir in common bpf dataplane broker cli client; do
	ok=" $(allowed "$dir") "
	for f in "$dir"/*.[ch]; do
		[ -e "$f" ] || continue
		while IFS= read -r inc; do
			checked=$((checked + 1))
			case "$inc" in
			*.skel.h | tspgw_version.h) continue ;; # generated into the build directory
			*/*) ;;
			*)
				echo "$f: #include \"$inc\" names no folder"
				bad=$((bad + 1))
				continue
				;;
			esac
			top=${inc%%/*}
			if [[ "$ok" != *" $top "* ]]; then
				echo "$f: #include \"$inc\": $dir/ may include only:$ok"
				bad=$((bad + 1))
			elif [ ! -e "$inc" ]; then
				echo "$f: #include \"$inc\": no such file"
				bad=$((bad + 1))
			fi
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	done
done

# Tests and benchmarks may include anything, but by path as well.
for f in $(find tests bench -name '*.[ch]' -not -path 'tests/fuzz/corpus/*'); do
	while IFS= read -r inc; do
		case "$inc" in
		*.skel.h | */*) ;;
		*)
			echo "$f: #include \"$inc\" names no folder"
			bad=$((bad + 1))
			;;
		esac
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done

if [ "$bad" -ne 0 ]; then
	echo "layers: FAILED: $bad include(s) against the layering"
	exit 1
fi
echo "layers: $checked includes in common/ bpf/ dataplane/ broker/ cli/ client/ point down or across their own folder"
