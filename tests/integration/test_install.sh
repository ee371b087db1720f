#!/bin/sh
# make install into a temporary DESTDIR: the installed header compiles on
# its own, the shared library exports only the public API, the man pages
# render without warnings, examples/send_count.c builds against the
# installed library through pkg-config, and the installed tools link two
# vdevs over which the example's frames arrive; then make uninstall
# leaves no file behind.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
MAC_A=52:54:00:00:03:0a
MAC_B=52:54:00:00:03:0b
N=1000
DEST="$RUN/dest"
PREFIX=/usr/local
LIB="$DEST$PREFIX/lib"

# Our build's make, not the caller's (make check's jobserver, -s, ...).
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make --no-print-directory -s BUILD="$BUILD" \
	PREFIX=$PREFIX DESTDIR="$DEST" "$@"; }

if mk install >"$RUN/install.log" 2>&1 && [ -x "$DEST$PREFIX/sbin/vnet-host" ]; then
	ok "make install DESTDIR=... PREFIX=$PREFIX"
else
	notok "make install: $(tail -20 "$RUN/install.log")"
	exit 1
fi
HOST="$DEST$PREFIX/sbin/vnet-host"
GUEST="$DEST$PREFIX/bin/vnet-guest"

so=$(cd "$LIB" && ls libvnetguest.so.*.*.* 2>/dev/null | head -n 1)
if [ -n "$so" ] && [ "$(readlink "$LIB/libvnetguest.so")" = libvnetguest.so.0 ] &&
   [ "$(readlink "$LIB/libvnetguest.so.0")" = "$so" ] && [ -f "$LIB/libvnetguest.a" ] &&
   readelf -d "$LIB/$so" | grep -q 'SONAME.*\[libvnetguest.so.0\]'; then
	ok "installed $so (soname libvnetguest.so.0), the .so link and the .a"
else
	notok "library files: $(ls -l "$LIB")"
fi
if sh tools/check_exports.sh "$LIB/$so" >"$RUN/exports" 2>&1; then
	ok "the shared library exports exactly virtio_net.h's functions: $(tail -n 1 "$RUN/exports")"
else
	notok "exports: $(cat "$RUN/exports")"
fi

# The static archive: only the same functions are global in it.
nm -D --defined-only "$LIB/$so" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort >"$RUN/so.syms"
nm -g --defined-only "$LIB/libvnetguest.a" | awk 'NF == 3 { print $3 }' | sort >"$RUN/a.syms"
if [ -s "$RUN/a.syms" ] && cmp -s "$RUN/so.syms" "$RUN/a.syms"; then
	ok "libvnetguest.a's only global symbols are the same $(wc -l <"$RUN/a.syms") functions"
else
	notok "libvnetguest.a globals differ from the .so's: $(diff "$RUN/so.syms" "$RUN/a.syms" | head -20)"
fi

# pkg-config from the DESTDIR tree: the sysroot puts $DEST before its paths.
export PKG_CONFIG_PATH="$LIB/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$DEST"
PC=$(pkg-config --cflags --libs vnet-guest 2>&1)
check "pkg-config vnet-guest points into the DESTDIR ($PC)" \
	sh -c 'case "$1" in *"-I$2$3/include"*"-L$2$3/lib"*"-lvnetguest"*) exit 0;; esac; exit 1' \
	sh "$PC" "$DEST" "$PREFIX"

printf '#include <vnet/virtio_net.h>\n' >"$RUN/hdr.c"
if cc -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only $(pkg-config --cflags vnet-guest) \
      "$RUN/hdr.c" >"$RUN/hdr.log" 2>&1; then
	ok "the installed <vnet/virtio_net.h> compiles alone (-std=c11 -pedantic, only its -I)"
else
	notok "installed header: $(cat "$RUN/hdr.log")"
fi

# Under SANITIZE=1 the library carries ASan: so must the program.
san=""
[ "${SANITIZE:-0}" = 1 ] && san="-fsanitize=address,undefined"
if cc -std=c11 -Wall -Wextra -Werror $san -o "$RUN/send_count" examples/send_count.c \
      $(pkg-config --cflags --libs vnet-guest) >"$RUN/cc.log" 2>&1; then
	ok "examples/send_count.c builds against the installed library"
else
	notok "example: $(cat "$RUN/cc.log")"
fi

if cc -std=c11 -Wall -Wextra -Werror $san -o "$RUN/send_count_static" examples/send_count.c \
      $(pkg-config --cflags vnet-guest) "$LIB/libvnetguest.a" \
      $(pkg-config --libs-only-l json-c) >"$RUN/cc.log" 2>&1; then	# Requires.private
	ok "examples/send_count.c links against the installed libvnetguest.a"
else
	notok "example, static: $(cat "$RUN/cc.log")"
fi

for m in man1/vnet-guest.1 man1/vnet-bench.1 man8/vnet-host.8; do
	page="$DEST$PREFIX/share/man/$m"
	warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	check "man $(basename "$page") renders without warnings${warn:+: $warn}" \
		[ -s "$page" ] && [ -z "$warn" ]
done

want=$("$BUILD/vnet-host" --version)
check "the installed vnet-host is this build's ($want)" [ "$("$HOST" --version)" = "$want" ]

# The installed tools link two vdevs; the example sends through one.
start_host vm1 a mac $MAC_A peer "$(node vm2 b)"
start_host vm2 b mac $MAC_B peer "$(node vm1 a)"
if wait_log host_vm1 "link up" 5 && wait_log host_vm2 "link up" 5; then
	ok "two installed vnet-hosts link as peers"
else
	notok "no link: $(cat "$RUN/host_vm1.log" "$RUN/host_vm2.log")"
fi
it_bg recv "$GUEST" --socket "$(sock vm2 b)" recv --timeout 2
wait_log host_vm2 "b: driver ready" 5 || notok "recv's driver never became ready"
LD_LIBRARY_PATH="$LIB" "$RUN/send_count" "$(sock vm1 a)" $MAC_B $N >"$RUN/send" 2>&1
src=$?
wait "$PID_recv"
got=$(field "$RUN/recv.log" other_frames)
if [ $src = 0 ] && [ "$(field "$RUN/send" tx_frames)" = $N ] && [ "$got" = $N ]; then
	ok "send_count sent $N frames (the library counted $(field "$RUN/send" tx_frames)), vnet-guest recv got $got"
else
	notok "send_count exit $src: $(cat "$RUN/send"); recv: $(cat "$RUN/recv.log")"
fi
it_stop_pid "$PID_host_vm1"
it_stop_pid "$PID_host_vm2"
it_check_clean "after the installed hosts stopped"

mk uninstall >"$RUN/uninstall.log" 2>&1
left=$(find "$DEST" ! -type d)
check "make uninstall leaves no file behind${left:+: $left}" [ -z "$left" ]
exit $IT_FAILED
