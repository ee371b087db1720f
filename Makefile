# vnet - userspace virtio-net device and driver with peer links.
#
#   make            build everything into build/
#   make deps       install the Debian 12 packages that are missing
#   make demo       two VMs' devices linked as peers, with traffic
#   make demo TRANSPORT=legacy|mmio|mmio-legacy   the same on another transport
#   make check      the whole test suite (unit + integration)
#   make check SANITIZE=1   the same, built with ASan + UBSan into build-san/
#   make lint       clang-tidy and cppcheck over the sources
#   make bench      every benchmark scenario beside its anchors (DPDK testpmd,
#                   a veth pair); results in bench/results/ (see README)

SANITIZE ?= 0
TRANSPORT ?= modern
ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS :=
endif

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
LDLIBS_BASE := -luring $(NL_LIBS) -lpcap $(JSON_LIBS) -lpthread -lm
CMOCKA_LIBS := -lcmocka

# Debian 12 packages the build, the tests and the demo need.
DEB_PACKAGES := build-essential pkg-config liburing-dev libcmocka-dev \
		libnl-3-dev libnl-route-3-dev iproute2 procps psmisc iperf3 \
		iputils-ping dpdk-dev qemu-system-x86 busybox-static cpio \
		libpcap-dev libjson-c-dev tcpdump

# What `make bench` needs on top (not installed by `make check`): DPDK's
# testpmd (dpdk-dev ships dpdk-testpmd), the plot, the veth anchor's tools,
# jq to assemble the results.
BENCH_PACKAGES := dpdk dpdk-dev gnuplot-nox iperf3 iproute2 iputils-ping jq procps

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

HOST_BIN := $(BUILD)/vnet-host
GUEST_BIN := $(BUILD)/vnet-guest
BENCH_BIN := $(BUILD)/vnet-bench
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TESTPROG_BINS := $(patsubst tests/progs/%.c,$(BUILD)/tests/%,$(TESTPROG_SRC))

.PHONY: all deps demo check test lint lint-deps clean bench bench-deps
all: $(HOST_BIN) $(GUEST_BIN) $(BENCH_BIN) $(UNIT_BINS) $(TESTPROG_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

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

$(HOST_BIN): $(call obj,host/main.c) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_BASE)
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

# BENCH_SECONDS: seconds per measurement (run.sh has the default).
bench: bench-deps
	$(MAKE) $(HOST_BIN) $(GUEST_BIN) $(BENCH_BIN) OPT=-O2
	BUILD=$(BUILD) sh bench/run.sh

check test: deps
	$(MAKE) all
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) sh tests/run.sh

# clang-tidy and cppcheck only for lint (CI runs it; make check does not).
lint-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="clang-tidy cppcheck"

lint: lint-deps
	clang-tidy --quiet --warnings-as-errors='*' $(COMMON_SRC) $(HOST_SRC) $(GUEST_SRC) $(BENCH_SRC) host/main.c $(GUEST_TOOL_SRC) -- $(filter-out -Werror $(SANFLAGS),$(CFLAGS))
	cppcheck --quiet --error-exitcode=1 --inline-suppr -I. -D_GNU_SOURCE -D__BYTE_ORDER__=1234 -D__ORDER_LITTLE_ENDIAN__=1234 common host guest bench

clean:
	rm -rf build build-san

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
