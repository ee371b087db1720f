# vnet - userspace virtio-net device and driver with peer links.
#
#   make            build everything into build/
#   make deps       install the Debian 12 packages that are missing
#   make demo       two VMs' devices linked as peers, with traffic
#   make demo TRANSPORT=legacy|mmio|mmio-legacy   the same on another transport
#   make check      the whole test suite (unit + integration)
#   make check SANITIZE=1   the same, built with ASan + UBSan into build-san/
#   make check-tsan the data-path thread tests (test_threads, with every
#                   multiqueue check) built with ThreadSanitizer, build-tsan/
#   make lint       clang-tidy and cppcheck over the sources
#   make install    PREFIX=/usr/local DESTDIR=...; make uninstall undoes it
#   make deb        the Debian packages into build-deb/ (make deb-deps first
#                   installs what that needs)
#   make bench      every benchmark scenario beside its anchors (DPDK testpmd,
#                   DPDK virtio-user on our vhost-user face, a veth pair), 5
#                   trials, medians and spreads; results in bench/results/
#                   (see README)
#   make fuzz       build the libFuzzer targets (tests/fuzz/) into build-fuzz/
#                   and run each for FUZZ_SECONDS (default 60)
#   make fuzz-smoke replay every committed corpus, then 15 s per target (CI)

SANITIZE ?= 0
TRANSPORT ?= modern
ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),thread)
BUILD ?= build-tsan
# -Wno-tsan: TSan does not model fences (gcc warns); ours order memory
# shared with other processes (rings), which TSan cannot see anyway.
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
else
BUILD ?= build
SANFLAGS :=
endif

# The version every tool prints (--version) and the library and packages
# carry: `git describe` of a v* tag when there is one, else VERSION.
VERSION := $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null | sed 's/^v//')
ifeq ($(VERSION),)
VERSION := $(shell cat VERSION)
endif

# make install / uninstall: PREFIX (default /usr/local) and DESTDIR.
# vnet-host goes to sbin: it is a system daemon (one per VM, run by root
# or by systemd through vnet-host@.service, man section 8); the tools a
# user runs go to bin.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install

CC ?= gcc
OPT ?= -O2
CFLAGS ?= $(OPT) -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	  -Wformat=2 -Wvla -fno-strict-aliasing -D_GNU_SOURCE -I. $(SANFLAGS)
DEPFLAGS = -MMD -MP
LDFLAGS += $(SANFLAGS)
NL_CFLAGS := $(shell pkg-config --cflags libnl-3.0 libnl-route-3.0 2>/dev/null)
NL_LIBS := $(shell pkg-config --libs libnl-3.0 libnl-route-3.0 2>/dev/null)
JSON_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
JSON_LIBS := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
CFLAGS += $(NL_CFLAGS) $(JSON_CFLAGS)
LDLIBS_BASE := -luring $(NL_LIBS) -lpcap $(JSON_LIBS) -lz -lpthread -lm
CMOCKA_LIBS := -lcmocka
# vnet-host only: readiness for systemd (sd_notify, Type=notify).
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)

# Debian 12 packages the build, the tests and the demo need.
DEB_PACKAGES := build-essential pkg-config liburing-dev libcmocka-dev \
		libnl-3-dev libnl-route-3-dev iproute2 procps psmisc iperf3 \
		iputils-ping dpdk-dev qemu-system-x86 busybox-static cpio ethtool \
		libsystemd-dev scdoc man-db libpcap-dev libjson-c-dev zlib1g-dev tcpdump jq \
		valgrind

# What `make bench` needs on top (not installed by `make check`): DPDK's
# testpmd (dpdk-dev ships dpdk-testpmd), the plot, the veth anchor's tools,
# jq to assemble the results, valgrind to count instructions.
BENCH_PACKAGES := dpdk dpdk-dev gnuplot-nox iperf3 iproute2 iputils-ping jq procps valgrind

COMMON_SRC := $(sort $(shell find common -name '*.c'))
HOST_SRC := $(sort $(filter-out host/main.c,$(shell find host -name '*.c')))
GUEST_SRC := $(sort $(wildcard guest/*.c))
GUEST_TOOL_SRC := $(sort $(wildcard guest/tool/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
# Helpers unit tests share (frame builders); never test programs themselves.
TEST_SUPPORT_SRC := $(sort $(wildcard tests/unit/support/*.c))
TESTPROG_SRC := $(sort $(wildcard tests/progs/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_COMMON := $(BUILD)/libvnetcommon.a
LIB_HOST := $(BUILD)/libvnethost.a
LIB_GUEST := $(BUILD)/libvnetguest.a
LIBS := $(LIB_HOST) $(LIB_GUEST) $(LIB_COMMON)
LIB_TEST_SUPPORT := $(BUILD)/libvnettestsupport.a

# The guest library as users get it (make install): a shared library with a
# soname, exporting exactly the functions guest/virtio_net.h declares (the
# version script), and a static archive; both self-contained (the common/
# pieces the driver uses are inside), built from their own -fPIC objects
# in $(BUILD)/pic/ so the static builds above stay as they are.  frame.c is
# the tools' test-frame format, not the driver.
SO_VERSION := $(shell cat VERSION)
SO_MAJOR := $(firstword $(subst ., ,$(SO_VERSION)))
SO_NAME := libvnetguest.so.$(SO_MAJOR)
LIBGUEST_SRC := $(filter-out guest/frame.c,$(GUEST_SRC)) common/log.c common/gmem.c common/gmem_log.c \
		common/rss.c common/csum.c \
		common/sigbus_guard.c \
		common/net_hdr.c $(sort $(wildcard common/vfio_user/*.c common/ring/*.c))
LIBGUEST_MAP := guest/libvnetguest.map
pic = $(patsubst %.c,$(BUILD)/pic/%.o,$(1))
SHLIB_GUEST := $(BUILD)/lib/libvnetguest.so.$(SO_VERSION)
STLIB_GUEST := $(BUILD)/lib/libvnetguest.a
PC_GUEST := $(BUILD)/lib/vnet-guest.pc
LIBGUEST_DIST := $(SHLIB_GUEST) $(STLIB_GUEST) $(PC_GUEST)

# Man pages: scdoc sources in man/, roff in $(BUILD)/man/.
MAN_SRC := $(sort $(wildcard man/*.scd))
MAN_PAGES := $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRC))
# The systemd template unit, with the path vnet-host is installed at.
UNIT := $(BUILD)/systemd/vnet-host@.service

HOST_BIN := $(BUILD)/vnet-host
GUEST_BIN := $(BUILD)/vnet-guest
BENCH_BIN := $(BUILD)/vnet-bench
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TESTPROG_BINS := $(patsubst tests/progs/%.c,$(BUILD)/tests/%,$(TESTPROG_SRC))

.PHONY: FORCE installable install uninstall deb deb-deps check-exports all deps demo check check-tsan test lint lint-deps clean bench bench-deps \
	fuzz fuzz-smoke fuzz-build fuzz-deps
all: $(HOST_BIN) $(GUEST_BIN) $(BENCH_BIN) $(UNIT_BINS) $(TESTPROG_BINS) $(LIBGUEST_DIST) \
     $(MAN_PAGES) $(UNIT)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC $(DEPFLAGS) -c -o $@ $<

$(SHLIB_GUEST): $(call pic,$(LIBGUEST_SRC)) $(LIBGUEST_MAP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(SO_NAME) -Wl,--version-script=$(LIBGUEST_MAP) \
		$(if $(SANFLAGS),,-Wl,--no-undefined) -o $@ $(call pic,$(LIBGUEST_SRC)) $(JSON_LIBS)
	ln -sf $(notdir $@) $(dir $@)$(SO_NAME)
	ln -sf $(SO_NAME) $(dir $@)libvnetguest.so
# The archive is one object whose only global symbols are the public
# functions (the version script's list), so a program linking it
# statically cannot clash with the library's insides (log_msg, vq_*, ...).
$(STLIB_GUEST): $(call pic,$(LIBGUEST_SRC)) $(LIBGUEST_MAP) Makefile
	@mkdir -p $(dir $@)
	grep -o 'vnet_[a-z0-9_]*;' $(LIBGUEST_MAP) | tr -d ';' >$(BUILD)/lib/public.syms
	$(LD) -r -o $(BUILD)/lib/libvnetguest.o $(call pic,$(LIBGUEST_SRC))
	objcopy --keep-global-symbols=$(BUILD)/lib/public.syms $(BUILD)/lib/libvnetguest.o
	rm -f $@ && ar rcs $@ $(BUILD)/lib/libvnetguest.o
$(PC_GUEST): guest/vnet-guest.pc.in $(BUILD)/paths.stamp
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(SO_VERSION)|' $< >$@

$(BUILD)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc <$< >$@.tmp && mv $@.tmp $@
$(UNIT): systemd/vnet-host@.service.in $(BUILD)/paths.stamp
	@mkdir -p $(dir $@)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' $< >$@

$(LIB_COMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIB_HOST): $(call obj,$(HOST_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIB_GUEST): $(call obj,$(GUEST_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIB_TEST_SUPPORT): $(call obj,$(TEST_SUPPORT_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Only the files that print it get -DVNET_VERSION; they are rebuilt when it
# changes (the stamp is rewritten only then).
VERSION_OBJS := $(call obj,host/main.c guest/tool/main.c bench/main.c)
$(VERSION_OBJS): CFLAGS += -DVNET_VERSION='"$(VERSION)"'
$(VERSION_OBJS): $(BUILD)/version.stamp
# A stamp holds a value and is rewritten only when the value changes, so
# what depends on it is rebuilt exactly then.
update_stamp = @mkdir -p $(dir $@); echo '$(1)' | cmp -s - $@ || echo '$(1)' >$@
$(BUILD)/version.stamp: FORCE
	$(call update_stamp,$(VERSION))
$(BUILD)/paths.stamp: FORCE
	$(call update_stamp,$(PREFIX) $(SBINDIR) $(LIBDIR) $(INCLUDEDIR))
FORCE:

$(HOST_BIN): $(call obj,host/main.c) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE) $(SYSTEMD_LIBS)
$(GUEST_BIN): $(call obj,$(GUEST_TOOL_SRC)) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

$(BENCH_BIN): $(call obj,$(BENCH_SRC)) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_TEST_SUPPORT) $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS_BASE)
$(BUILD)/tests/%: $(BUILD)/obj/tests/progs/%.o $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)

# Installs only what is missing; needs root (apt-get) when anything is.
deps bench-deps: PKGS = $(DEB_PACKAGES)
bench-deps: PKGS = $(DEB_PACKAGES) $(BENCH_PACKAGES)
deps bench-deps:
	@missing=$$(for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to install:" $$missing >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

demo: deps
	$(MAKE) all
	BUILD=$(BUILD) TRANSPORT=$(TRANSPORT) sh tests/integration/demo.sh

# BENCH_TRIALS, BENCH_SECONDS, BENCH_ONLY, ...: see bench/run.sh (and the
# README's Benchmarks section) for them and their defaults.
bench: bench-deps
	$(MAKE) $(HOST_BIN) $(GUEST_BIN) $(BENCH_BIN) OPT=-O2
	BUILD=$(BUILD) sh bench/run.sh

check test: deps
	$(MAKE) all
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) sh tests/run.sh

# The tests whose processes run data-path threads, under ThreadSanitizer:
# a race it sees ends the process (halt_on_error), which fails the test.
check-tsan: deps
	$(MAKE) SANITIZE=thread all
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
		BUILD=build-tsan SANITIZE=thread sh tests/run.sh threads

# clang-tidy and cppcheck only for lint (CI runs it; make check does not).
lint-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="clang-tidy cppcheck"

# examples/ include the header as installed (<vnet/virtio_net.h>): lint
# sees it through a copy of the install tree's include/ in $(BUILD).
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
LINT_INCLUDE := $(BUILD)/lint-include
$(LINT_INCLUDE)/vnet/%.h: guest/%.h
	@mkdir -p $(dir $@)
	cp $< $@
$(LINT_INCLUDE)/vnet/common/%.h: common/%.h
	@mkdir -p $(dir $@)
	cp $< $@

lint: lint-deps $(LINT_INCLUDE)/vnet/virtio_net.h $(LINT_INCLUDE)/vnet/common/virtio.h
	clang-tidy --quiet --warnings-as-errors='*' $(COMMON_SRC) $(HOST_SRC) $(GUEST_SRC) $(BENCH_SRC) host/main.c $(GUEST_TOOL_SRC) -- $(filter-out -Werror $(SANFLAGS),$(CFLAGS))
	clang-tidy --quiet --warnings-as-errors='*' $(EXAMPLE_SRC) -- -std=c11 -I$(LINT_INCLUDE)
	cppcheck --quiet --error-exitcode=1 --inline-suppr -I. -D_GNU_SOURCE -D__BYTE_ORDER__=1234 -D__ORDER_LITTLE_ENDIAN__=1234 common host guest bench
	cppcheck --quiet --error-exitcode=1 --inline-suppr -I$(LINT_INCLUDE) -D__BYTE_ORDER__=1234 -D__ORDER_LITTLE_ENDIAN__=1234 examples

# make install [PREFIX=/usr/local] [DESTDIR=...]; make uninstall removes
# exactly those files again (and the directories only vnet uses).
INSTALLED_HEADERS := guest/virtio_net.h common/virtio.h
installable: $(HOST_BIN) $(GUEST_BIN) $(BENCH_BIN) $(LIBGUEST_DIST) $(MAN_PAGES) $(UNIT)
install: installable
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/vnet/common $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR)
	$(INSTALL) -m 755 $(HOST_BIN) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 755 $(GUEST_BIN) $(BENCH_BIN) $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 $(SHLIB_GUEST) $(STLIB_GUEST) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SHLIB_GUEST)) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libvnetguest.so
	$(INSTALL) -m 644 $(PC_GUEST) $(DESTDIR)$(LIBDIR)/pkgconfig/
	$(INSTALL) -m 644 guest/virtio_net.h $(DESTDIR)$(INCLUDEDIR)/vnet/
	$(INSTALL) -m 644 common/virtio.h $(DESTDIR)$(INCLUDEDIR)/vnet/common/
	$(INSTALL) -m 644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 644 $(UNIT) $(DESTDIR)$(SYSTEMDUNITDIR)/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vnet-host $(DESTDIR)$(BINDIR)/vnet-guest \
		$(DESTDIR)$(BINDIR)/vnet-bench $(DESTDIR)$(LIBDIR)/$(notdir $(SHLIB_GUEST)) \
		$(DESTDIR)$(LIBDIR)/$(SO_NAME) $(DESTDIR)$(LIBDIR)/libvnetguest.so \
		$(DESTDIR)$(LIBDIR)/libvnetguest.a $(DESTDIR)$(LIBDIR)/pkgconfig/vnet-guest.pc \
		$(addprefix $(DESTDIR)$(INCLUDEDIR)/vnet/,$(INSTALLED_HEADERS:guest/%=%)) \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(filter %.1,$(MAN_PAGES)))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(filter %.8,$(MAN_PAGES)))) \
		$(DESTDIR)$(SYSTEMDUNITDIR)/$(notdir $(UNIT))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/vnet/common $(DESTDIR)$(INCLUDEDIR)/vnet 2>/dev/null

# The shared library exports exactly guest/virtio_net.h's functions.
check-exports: $(SHLIB_GUEST)
	sh tools/check_exports.sh $(SHLIB_GUEST)

# The Debian packages (vnet, libvnetguest0, libvnetguest-dev) into
# build-deb/: built from a copy of the tree in build-deb/src, because
# dpkg-buildpackage writes its output into the parent directory.  deb-deps
# also installs what .ci/deb-check uses (systemd-analyze, man).
DEB_BUILD_PACKAGES := debhelper dpkg-dev fakeroot systemd man-db pkg-config liburing-dev libnl-3-dev \
		      libnl-route-3-dev libsystemd-dev scdoc libjson-c-dev libpcap-dev zlib1g-dev
deb-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(DEB_BUILD_PACKAGES)"

deb: deb-deps
	rm -rf build-deb
	mkdir -p build-deb/src
	tar --exclude=./build --exclude=./build-san --exclude=./build-deb --exclude=./build-fuzz --exclude=./.git \
	    -cf - . | tar -C build-deb/src -xf -
	cd build-deb/src && dpkg-buildpackage -us -uc -b
	rm -rf build-deb/src
	ls -l build-deb/*.deb

# ---- Fuzzing (README "Fuzzing") ---------------------------------------
# clang + libFuzzer with ASan and UBSan (any UB is a crash).  The project's
# sources are compiled again with the same sanitizers plus the fuzzer's
# coverage into build-fuzz/, so the gcc builds are untouched.  Each
# tests/fuzz/fuzz_<name>.c is one target; its seeds are in
# tests/fuzz/corpus/<name>/, and what a run finds goes to
# build-fuzz/corpus/<name>/ (crashes to build-fuzz/crashes/<name>/).
FUZZ_CC ?= clang-14
FUZZ_BUILD := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
	       -Wno-atomic-alignment -fno-strict-aliasing -D_GNU_SOURCE -I. \
	       $(NL_CFLAGS) $(JSON_CFLAGS) $(FUZZ_SAN)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
# make fuzz FUZZ_TARGETS="vq offload" runs only those.
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_BINS := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_LIB := $(FUZZ_BUILD)/libvnetfuzz.a
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(COMMON_SRC) $(HOST_SRC) $(GUEST_SRC))

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c -o $@ $<
$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^
# clang calls libatomic for common/ring/packed.c's 4-byte event-structure
# atomics (gcc inlines them).
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/harness.h $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDLIBS_BASE) -latomic

# libFuzzer's runtime is in libclang-rt-14-dev.
fuzz-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="clang-14 libclang-rt-14-dev"

fuzz-build: fuzz-deps
	$(MAKE) $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh fuzz $(FUZZ_BINS)

fuzz-smoke: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=15 sh tests/fuzz/run.sh smoke $(FUZZ_BINS)

clean:
	rm -rf build build-san build-deb build-fuzz

-include $(shell find $(BUILD)/obj $(BUILD)/pic -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
