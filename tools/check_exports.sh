#!/bin/sh
# tools/check_exports.sh LIB.so [HEADER [MAP]] - the shared library exports
# exactly the functions the public header declares, all in version nodes
# of the version script, and nothing else (no common/ or transport
# internals).  Prints what differs; exit 0 when nothing does.
set -eu
lib=$1
hdr=${2:-guest/virtio_net.h}
map=${3:-guest/libvnetguest.map}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vnet-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Declared: "type name(" at the start of a line (the header's style).
sed -n 's/^[a-z].*[ *]\(vnet_[a-z0-9_]*\)(.*/\1/p' "$hdr" | sort -u >"$tmp/declared"
grep -o 'vnet_[a-z0-9_]*;' "$map" | tr -d ';' | sort -u >"$tmp/listed"
# Exported: every defined dynamic symbol but the version nodes ("A").
nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u >"$tmp/exported"
rc=0
if ! diff -u "$tmp/declared" "$tmp/listed" >"$tmp/d1"; then
	echo "the version script ($map) and the header ($hdr) differ:"; cat "$tmp/d1"; rc=1
fi
if ! diff -u "$tmp/declared" "$tmp/exported" >"$tmp/d2"; then
	echo "$lib exports other symbols than $hdr declares:"; cat "$tmp/d2"; rc=1
fi
bad=$(nm -D --defined-only "$lib" | awk '$2 != "A" && $3 !~ /@@?VNET_/' )
if [ -n "$bad" ]; then
	echo "symbols outside a VNET_* version node:"; echo "$bad"; rc=1
fi
[ $rc = 0 ] && echo "$lib exports the $(wc -l <"$tmp/exported") functions of $hdr, all versioned"
exit $rc
