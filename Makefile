# tspgw build. `make` builds the BPF objects, their skeletons and the
# `tspgw` binary; `make test` runs every suite; `make deps` installs the
# Debian packages all of that needs.
.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

BUILD   ?= build
CC      ?= cc
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# Packages the build, the tests and the demo need (Debian 12).
DEB_PACKAGES := make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
	libxml2-dev libsasl2-dev libsasl2-modules sasl2-bin libyaml-dev \
	libsqlite3-dev libcriterion-dev pkg-config iproute2 ethtool iputils-ping \
	nftables conntrack netcat-openbsd procps python3 python3-scapy util-linux \
	libclang-rt-14-dev

CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror
# Paths are length-checked where built; gcc's truncation guesses are noise.
USER_WARN := $(WARN) -Wno-format-truncation
CFLAGS   ?= -O2 -g
CFLAGS   += $(CSTD) $(USER_WARN) -I$(BUILD) -Ibpf -Iloader -Ibroker -I/usr/include/libxml2
LDLIBS   := -lbpf -lelf -lz -lyaml -lxml2 -lsasl2 -lsqlite3
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# clang -target bpf does not see the host's arch include dir; add the
# system include dirs after ours (libbpf-bootstrap's recipe).
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) -fno-strict-aliasing \
	-Wno-unused-function -Ivmlinux -Ibpf $(CLANG_BPF_SYS_INCLUDES)

BPF_HDRS    := $(wildcard bpf/*.h)
BPF_PROGS   := tspgw
SKELS       := $(patsubst %,$(BUILD)/%.skel.h,$(BPF_PROGS))

# Userspace: everything under loader/ and broker/; main.c holds only main().
LIB_SRCS    := $(filter-out loader/main.c,$(wildcard loader/*.c broker/*.c))
USER_HDRS   := $(wildcard loader/*.h broker/*.h) $(BPF_HDRS)
LIB_OBJS    := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB_OBJS_SAN := $(patsubst %.c,$(BUILD)/obj-san/%.o,$(LIB_SRCS))

UNIT_SRCS   := $(wildcard tests/unit/*.c)
BPFT_SRCS   := $(filter-out %.bpf.c,$(wildcard tests/bpf/*.c))

.PHONY: all deps vmlinux test test-unit test-bpf test-e2e test-broker test-scenarios test-client test-adversarial demo clean check-deps

all: $(BUILD)/tspgw $(BUILD)/tspc $(BUILD)/tunclient $(BUILD)/xdp_pass.bpf.o

# Installs what is missing; quiet and quick when everything is there.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h.tmp
	mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

$(BUILD) $(BUILD)/obj/loader $(BUILD)/obj/broker $(BUILD)/obj-san/loader $(BUILD)/obj-san/broker:
	mkdir -p $@

# BPF objects, linked through bpftool so the skeleton sees final BTF.
$(BUILD)/%.tmp.bpf.o: bpf/%.bpf.c $(BPF_HDRS) vmlinux/vmlinux.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: $(BUILD)/%.tmp.bpf.o
	$(BPFTOOL) gen object $@ $<

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# A do-nothing XDP program for the far end of test veths: a veth only
# delivers XDP-redirected frames when its peer runs an XDP program.
$(BUILD)/xdp_pass.tmp.bpf.o: tests/bpf/xdp_pass.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(USER_HDRS) $(SKELS) | $(BUILD)/obj/loader $(BUILD)/obj/broker
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj-san/%.o: %.c $(USER_HDRS) $(SKELS) | $(BUILD)/obj-san/loader $(BUILD)/obj-san/broker
	$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(BUILD)/tspgw: loader/main.c $(LIB_OBJS) $(USER_HDRS) $(SKELS)
	$(CC) $(CFLAGS) loader/main.c $(LIB_OBJS) -o $@ $(LDLIBS)

# tspc, the TSP client (client/): its own small program, no BPF. It shares
# loader/prefix.c, the one IPv6 prefix parser and mask.
CLIENT_SRCS  := $(filter-out client/main.c,$(wildcard client/*.c)) loader/prefix.c
CLIENT_HDRS  := $(wildcard client/*.h) loader/prefix.h
# Not $(CFLAGS): its -Iloader would shadow client/config.h in the tests;
# -idirafter finds prefix.h in loader/ only after client/.
CLIENT_CFLAGS := -O2 -g $(CSTD) $(USER_WARN) -Iclient -I/usr/include/libxml2 -idirafter loader
CLIENT_LIBS  := -lxml2 -lsasl2

$(BUILD)/tspc: client/main.c $(CLIENT_SRCS) $(CLIENT_HDRS) | $(BUILD)
	$(CC) $(CLIENT_CFLAGS) client/main.c $(CLIENT_SRCS) -o $@ $(CLIENT_LIBS)

# The client's unit tests, under ASan/UBSan like the gateway's.
$(BUILD)/client_tests: $(wildcard tests/client/*.c) $(CLIENT_SRCS) $(CLIENT_HDRS) | $(BUILD)
	$(CC) $(CLIENT_CFLAGS) $(SAN) $(wildcard tests/client/*.c) $(CLIENT_SRCS) -o $@ $(CLIENT_LIBS) -lcriterion

# Userspace test client for the end-to-end tests (TUN + UDP/raw socket).
$(BUILD)/tunclient: tests/e2e/tunclient.c | $(BUILD)
	$(CC) $(CFLAGS) $< -o $@

# Unit tests run under ASan/UBSan.
$(BUILD)/unit_tests: $(UNIT_SRCS) $(LIB_OBJS_SAN) $(USER_HDRS)
	$(CC) $(CFLAGS) $(SAN) $(UNIT_SRCS) $(LIB_OBJS_SAN) -o $@ $(LDLIBS) -lcriterion

# BPF program tests: crafted packets through BPF_PROG_RUN (need root).
$(BUILD)/bpf_tests: $(BPFT_SRCS) $(LIB_OBJS) $(USER_HDRS) $(SKELS)
	$(CC) $(CFLAGS) $(filter %.c,$(BPFT_SRCS)) $(LIB_OBJS) -o $@ $(LDLIBS) -lcriterion

check-deps:
	@$(MAKE) --no-print-directory deps

# libFuzzer harnesses: `make fuzz`, `make test-fuzz-corpus` (tests/fuzz/).
# Optional: the image's build context holds no tests/ (.dockerignore).
-include tests/fuzz/fuzz.mk

test: check-deps
	$(MAKE) --no-print-directory all $(BUILD)/unit_tests $(BUILD)/bpf_tests $(BUILD)/client_tests
	$(MAKE) --no-print-directory test-unit test-fuzz-corpus test-bpf test-e2e test-broker test-client test-scenarios test-adversarial

test-unit: $(BUILD)/unit_tests $(BUILD)/client_tests
	$(BUILD)/unit_tests --jobs 1
	$(BUILD)/client_tests --jobs 1

test-bpf: $(BUILD)/bpf_tests
	$(BUILD)/bpf_tests --jobs 1

# Shell suites in network namespaces. Exit 77 means a suite skipped itself
# (not root, no BPF): say so rather than fail.
define run_suite
	@bash $(1); rc=$$?; \
	if [ $$rc = 77 ]; then echo "$(1): skipped (needs root and BPF)"; exit 0; fi; exit $$rc
endef

test-e2e: all
	$(call run_suite,tests/e2e/run.sh)

# The TSP broker driven as gogoc drives it.
test-broker: all
	$(call run_suite,tests/broker/run.sh)

# tspc against the broker: real tunnels, reconnects, redirects, hooks.
test-client: all
	$(call run_suite,tests/client/run.sh)

# Whole-system scenarios through NAT, restarts and rebinding.
test-scenarios: all
	$(call run_suite,tests/e2e/scenarios.sh)

# Attacks on the gateway, tried for real (README "Security"): crafted
# packets (scapy, raw sockets) from tunnels, spoofers and hostile clients.
test-adversarial: all
	$(call run_suite,tests/adversarial/run.sh)

# The live demo: TSP tunnels through a NAT and a public address, in
# network namespaces. (DEMO=1 bash tests/e2e/run.sh narrates the data-plane
# test with static tunnels.)
demo: check-deps
	$(MAKE) --no-print-directory all
	bash tests/e2e/demo.sh

# --- benchmarks (issue 5) ---------------------------------------------------
# `make bench` needs root; bench/README.md explains every figure. Output in
# $(BUILD)/bench (results.json, results.md, pkt_cost.png), never committed.
BENCH_SUPPORT := tests/bpf/bpf_fixture.c tests/bpf/pkt_build.c tests/bpf/netenv.c tests/bpf/expect.c \
	loader/counters.c

.PHONY: bench

$(BUILD)/bench:
	mkdir -p $@

$(BUILD)/bench/pkt_cost: bench/pkt_cost.c bench/helper_cost.h $(BENCH_SUPPORT) $(wildcard tests/bpf/*.h) $(BPF_HDRS) $(SKELS) | $(BUILD)/bench
	$(CC) $(CFLAGS) -Itests/bpf bench/pkt_cost.c $(BENCH_SUPPORT) -o $@ -lbpf -lelf -lz -lcriterion

# Bench-only XDP programs timing single kernel helpers (loaded by pkt_cost).
$(BUILD)/bench/helper_cost.bpf.o: bench/helper_cost.bpf.c bench/helper_cost.h vmlinux/vmlinux.h | $(BUILD)/bench
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Section 2 (end-to-end forwarding): the live-frames generator and sink
# (fwd_gen + its BPF programs) and the userspace UDP<->TUN relay baseline.
FWD_BENCH := $(BUILD)/bench/fwd_gen $(BUILD)/bench/fwd_relay

$(BUILD)/bench/fwd_gen.tmp.bpf.o: bench/fwd_gen.bpf.c bench/fwd_gen.h vmlinux/vmlinux.h | $(BUILD)/bench
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/fwd_gen.bpf.o: $(BUILD)/bench/fwd_gen.tmp.bpf.o
	$(BPFTOOL) gen object $@ $<

$(BUILD)/bench/fwd_gen.skel.h: $(BUILD)/bench/fwd_gen.bpf.o
	$(BPFTOOL) gen skeleton $< name fwd_gen_bpf > $@

$(BUILD)/bench/fwd_gen: bench/fwd_gen.c bench/fwd_gen.h $(BUILD)/bench/fwd_gen.skel.h
	$(CC) $(CFLAGS) -I$(BUILD)/bench bench/fwd_gen.c -o $@ -lbpf -lelf -lz

$(BUILD)/bench/fwd_relay: bench/fwd_relay.c | $(BUILD)/bench
	$(CC) $(CFLAGS) $< -o $@

# Section 3: the TSP load generator (libsasl2's client for DIGEST-MD5).
$(BUILD)/bench/broker_load: bench/broker_load.c | $(BUILD)/bench
	$(CC) $(CFLAGS) $< -o $@ -lsasl2

# Section 4: fills the maps through the broker's own assign and map functions.
$(BUILD)/bench/scale: bench/scale.c $(LIB_OBJS) $(USER_HDRS) $(SKELS) | $(BUILD)/bench
	$(CC) $(CFLAGS) bench/scale.c $(LIB_OBJS) -o $@ $(LDLIBS)

bench: check-deps
	$(MAKE) --no-print-directory all $(BUILD)/bench/pkt_cost $(BUILD)/bench/helper_cost.bpf.o \
		$(FWD_BENCH) $(BUILD)/bench/broker_load $(BUILD)/bench/scale
	$(call run_suite,bench/run.sh)

# --- container and least privilege (issue 6) ---------------------------------
# `make test-container` (root): builds the image from the Containerfile with
# podman and runs the gateway in it, and as a non-root user, with only
# CAP_BPF and CAP_NET_ADMIN (tests/container/run.sh).
CONTAINER_DEB_PACKAGES := podman runc debootstrap

.PHONY: test-container container-deps

# As `deps`, without podman's recommends (no extra network tools).
container-deps:
	@missing=""; for p in $(CONTAINER_DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

test-container: check-deps container-deps
	$(MAKE) --no-print-directory all
	$(call run_suite,tests/container/run.sh)

clean:
	rm -rf $(BUILD)
