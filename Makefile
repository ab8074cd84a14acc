# SPDX-License-Identifier: BSD-2-Clause
# tspgw build. `make` builds the BPF objects, their skeletons and the
# `tspgw` binary; `make test` runs every suite; `make deps` installs the
# Debian packages all of that needs.
.DELETE_ON_ERROR:
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
	libclang-rt-14-dev libmicrohttpd-dev curl libpq-dev libsasl2-modules-sql
# Servers the tests start themselves (throwaway instances in namespaces):
# installed without their recommends and under a policy-rc.d that exits
# 101, so the package never starts a system service.
SERVER_DEB_PACKAGES := prometheus postgresql bird2

CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror
# Paths are length-checked where built; gcc's truncation guesses are noise.
USER_WARN := $(WARN) -Wno-format-truncation
# Only the optimisation and debug choice lives in CFLAGS: `make CFLAGS=-O0`
# replaces it and keeps the standard, the warnings and the include paths.
CFLAGS   ?= -O2 -g
# One include root, the repository's: every include names its folder
# ("dataplane/pinned_maps.h", "client/config.h"), so no folder's header
# can shadow another's. $(BUILD) holds the generated skeletons only.
GW_INC   := -I. -I$(BUILD) -I/usr/include/libxml2 -I/usr/include/postgresql
CLIENT_INC := -I. -I/usr/include/libxml2
# Each object records the headers it read (build/.../*.d) and is rebuilt
# when one of them changes; -MP keeps a deleted header from breaking make.
DEPFLAGS := -MMD -MP
GW_CFLAGS     = $(CSTD) $(USER_WARN) $(GW_INC) $(CFLAGS)
CLIENT_CFLAGS = $(CSTD) $(USER_WARN) $(CLIENT_INC) $(CFLAGS)
LDLIBS   := -lbpf -lelf -lz -lyaml -lxml2 -lsasl2 -lsqlite3 -lpq -lmicrohttpd
CLIENT_LIBS := -lxml2 -lsasl2
SAN_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# clang -target bpf does not see the host's arch include dir; add the
# system include dirs after ours (libbpf-bootstrap's recipe).
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) -fno-strict-aliasing \
	-Wno-unused-function -I. $(CLANG_BPF_SYS_INCLUDES)

BPF_HDRS    := $(wildcard bpf/*.h)
BPF_PROGS   := tspgw tunnel_write
SKELS       := $(patsubst %,$(BUILD)/%.skel.h,$(BPF_PROGS))

# Userspace, in layers that include only downwards (README "Layout";
# tests/layers.sh holds them to it): common/ <- dataplane/ (the data
# plane's userspace side, over bpf/'s shared headers) <- broker/ <- cli/
# (the tspgw command: subcommands, config parsing, `run`); cli/main.c
# holds only main(). Objects in $(BUILD)/obj, and built with ASan/UBSan
# in $(BUILD)/obj-san.
GW_DIRS     := common dataplane broker cli
LIB_SRCS    := $(filter-out cli/main.c,$(wildcard $(addsuffix /*.c,$(GW_DIRS))))
USER_HDRS   := $(wildcard $(addsuffix /*.h,$(GW_DIRS))) $(BPF_HDRS)
LIB_OBJS    := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB_OBJS_SAN := $(patsubst %.c,$(BUILD)/obj-san/%.o,$(LIB_SRCS))

# tspc, the TSP client (client/): its own small program, no BPF.
CLIENT_SRCS  := $(filter-out client/main.c,$(wildcard client/*.c)) common/prefix.c
CLIENT_HDRS  := $(wildcard client/*.h) common/prefix.h
CLIENT_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLIENT_SRCS))
CLIENT_OBJS_SAN := $(patsubst %.c,$(BUILD)/obj-san/%.o,$(CLIENT_SRCS))

UNIT_OBJS   := $(patsubst %.c,$(BUILD)/obj-san/%.o,$(wildcard tests/unit/*.c))
BPFT_OBJS   := $(patsubst %.c,$(BUILD)/obj-san/%.o,$(filter-out %.bpf.c,$(wildcard tests/bpf/*.c)))
CLIENTT_OBJS := $(patsubst %.c,$(BUILD)/obj-san/%.o,$(wildcard tests/client/*.c))

# The sanitizer build (`make SAN=1`, and what the suites that feed hostile
# input use): the same programs under ASan/UBSan in $(BUILD)/san, laid out
# like $(BUILD) so a suite runs against it with BUILD=$(BUILD)/san.
SAN_BUILD   := $(BUILD)/san
SAN_PROGS   := $(SAN_BUILD)/tspgw $(SAN_BUILD)/tspc $(SAN_BUILD)/tunclient $(SAN_BUILD)/xdp_pass.bpf.o

.PHONY: all san deps vmlinux test test-layers test-unit test-bpf test-e2e test-broker test-startup test-scenarios test-client test-adversarial test-metrics test-reload demo clean check-deps

all: $(BUILD)/tspgw $(BUILD)/tspc $(BUILD)/tunclient $(BUILD)/xdp_pass.bpf.o
ifeq ($(SAN),1)
all: san
endif

san: $(SAN_PROGS)

# Installs what is missing; quiet and quick when everything is there.
# Server packages go in under a policy-rc.d of ours that exits 101 (no
# service starts); an existing policy-rc.d is put back afterwards.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	servers=""; for p in $(SERVER_DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || servers="$$servers $$p"; \
	done; \
	if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
	if [ -n "$$missing$$servers" ]; then $$SUDO apt-get update -q || exit 1; fi; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing || exit 1; \
	fi; \
	if [ -n "$$servers" ]; then \
		echo "installing (not started):$$servers"; \
		$$SUDO sh -c 'p=/usr/sbin/policy-rc.d; saved=""; \
			if [ -e $$p ]; then saved=$$p.tspgw-saved; mv $$p $$saved; fi; \
			printf "#!/bin/sh\nexit 101\n" > $$p; chmod 755 $$p; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends '"$$servers"'; rc=$$?; \
			rm -f $$p; if [ -n "$$saved" ]; then mv $$saved $$p; fi; exit $$rc' || exit 1; \
	fi

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h.tmp
	mv vmlinux/vmlinux.h.tmp vmlinux/vmlinux.h

$(BUILD):
	mkdir -p $@

# The build's git description, for tspgw_build_info in /metrics
# (cli/build_info.c): rewritten only when it changes, so it rebuilds
# one object then and nothing otherwise.
$(BUILD)/tspgw_version.h: FORCE | $(BUILD)
	@v=$$(git describe --always --dirty 2>/dev/null || echo unknown); \
	printf '#define TSPGW_VERSION "%s"\n' "$$v" > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

.PHONY: FORCE
FORCE:

# BPF objects, linked through bpftool so the skeleton sees final BTF.
$(BUILD)/%.tmp.bpf.o: bpf/%.bpf.c vmlinux/vmlinux.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: $(BUILD)/%.tmp.bpf.o
	$(BPFTOOL) gen object $@ $<

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# A do-nothing XDP program for the far end of test veths: a veth only
# delivers XDP-redirected frames when its peer runs an XDP program.
$(BUILD)/xdp_pass.tmp.bpf.o: tests/bpf/xdp_pass.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

# Gateway objects (dataplane/, broker/, cli/, their tests) may include the
# skeleton: it exists before the first of them compiles (order-only), and
# their .d files make them depend on it from then on.
$(BUILD)/obj/%.o: %.c $(BUILD)/obj/%.d | $(SKELS) $(BUILD)/tspgw_version.h
	@mkdir -p $(@D)
	$(CC) $(GW_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/obj-san/%.o: %.c $(BUILD)/obj-san/%.d | $(SKELS) $(BUILD)/tspgw_version.h
	@mkdir -p $(@D)
	$(CC) $(GW_CFLAGS) $(SAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/obj/client/%.o: client/%.c $(BUILD)/obj/client/%.d
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/obj-san/client/%.o: client/%.c $(BUILD)/obj-san/client/%.d
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) $(SAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/obj-san/tests/client/%.o: tests/client/%.c $(BUILD)/obj-san/tests/client/%.d
	@mkdir -p $(@D)
	$(CC) $(CLIENT_CFLAGS) $(SAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/obj-san/tests/bpf/%.o: tests/bpf/%.c $(BUILD)/obj-san/tests/bpf/%.d | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(GW_CFLAGS) $(SAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tspgw: $(BUILD)/obj/cli/main.o $(LIB_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tspc: $(BUILD)/obj/client/main.o $(CLIENT_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(CLIENT_LIBS)

# Userspace test client for the end-to-end tests (TUN + UDP/raw socket).
$(BUILD)/tunclient: $(BUILD)/obj/tests/e2e/tunclient.o
	$(CC) $(CFLAGS) $^ -o $@

$(SAN_BUILD)/tspgw: $(BUILD)/obj-san/cli/main.o $(LIB_OBJS_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $^ -o $@ $(LDLIBS)

$(SAN_BUILD)/tspc: $(BUILD)/obj-san/client/main.o $(CLIENT_OBJS_SAN)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $^ -o $@ $(CLIENT_LIBS)

$(SAN_BUILD)/tunclient: $(BUILD)/obj-san/tests/e2e/tunclient.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $^ -o $@

# BPF objects are not sanitized: the suites load the same one.
$(SAN_BUILD)/%.bpf.o: $(BUILD)/%.bpf.o
	@mkdir -p $(@D)
	cp $< $@

# The unit tests, the client's and the BPF program tests (crafted packets
# through BPF_PROG_RUN, need root) all run under ASan/UBSan.
$(BUILD)/unit_tests: $(UNIT_OBJS) $(LIB_OBJS_SAN)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $^ -o $@ $(LDLIBS) -lcriterion

$(BUILD)/client_tests: $(CLIENTT_OBJS) $(CLIENT_OBJS_SAN)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $^ -o $@ $(CLIENT_LIBS) -lcriterion

$(BUILD)/bpf_tests: $(BPFT_OBJS) $(LIB_OBJS_SAN)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $^ -o $@ $(LDLIBS) -lcriterion

# An object without its .d (built before a header moved, or interrupted)
# is rebuilt: the empty rule makes a missing .d count as changed.
ALL_OBJS := $(LIB_OBJS) $(LIB_OBJS_SAN) $(CLIENT_OBJS) $(CLIENT_OBJS_SAN) $(UNIT_OBJS) $(BPFT_OBJS) \
	$(CLIENTT_OBJS) $(BUILD)/obj/cli/main.o $(BUILD)/obj-san/cli/main.o \
	$(BUILD)/obj/client/main.o $(BUILD)/obj-san/client/main.o \
	$(BUILD)/obj/tests/e2e/tunclient.o $(BUILD)/obj-san/tests/e2e/tunclient.o
$(sort $(ALL_OBJS:.o=.d)): ;

# Kept although only steps towards another file (the suites load the
# .bpf.o files). Not all targets: a missing .d must count.
.SECONDARY: $(foreach p,$(BPF_PROGS) xdp_pass,$(BUILD)/$(p).tmp.bpf.o $(BUILD)/$(p).bpf.o) \
	$(BUILD)/obj/tests/e2e/tunclient.o $(BUILD)/obj-san/tests/e2e/tunclient.o \
	$(foreach p,fwd_gen pkt_loop tspgw_unhardened,$(BUILD)/bench/$(p).tmp.bpf.o $(BUILD)/bench/$(p).bpf.o)
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# A tspgw whose data plane holds one program the verifier refuses
# (tests/startup/verifier_reject.bpf.c), for tests/startup only. Its
# skeleton has the real one's name, so dataplane/dataplane.c is compiled
# against it (-I$(VREJ) first) and linked with everything else unchanged.
VREJ := $(BUILD)/verifier-reject

$(VREJ):
	mkdir -p $@

$(VREJ)/tspgw.tmp.bpf.o: tests/startup/verifier_reject.bpf.c bpf/tspgw.bpf.c $(BPF_HDRS) vmlinux/vmlinux.h | $(VREJ)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(VREJ)/tspgw.bpf.o: $(VREJ)/tspgw.tmp.bpf.o
	$(BPFTOOL) gen object $@ $<

$(VREJ)/tspgw.skel.h: $(VREJ)/tspgw.bpf.o
	$(BPFTOOL) gen skeleton $< name tspgw_bpf > $@

$(VREJ)/tspgw: cli/main.c dataplane/dataplane.c $(LIB_OBJS) $(USER_HDRS) $(VREJ)/tspgw.skel.h
	$(CC) -I$(VREJ) $(GW_CFLAGS) cli/main.c dataplane/dataplane.c \
		$(filter-out $(BUILD)/obj/dataplane/dataplane.o,$(LIB_OBJS)) -o $@ $(LDLIBS)

check-deps:
	@$(MAKE) --no-print-directory deps

# libFuzzer harnesses: `make fuzz`, `make test-fuzz-corpus` (tests/fuzz/).
# Optional: the image's build context holds no tests/ (.dockerignore).
-include tests/fuzz/fuzz.mk

test: check-deps
	$(MAKE) --no-print-directory all san $(BUILD)/unit_tests $(BUILD)/bpf_tests $(BUILD)/client_tests
	$(MAKE) --no-print-directory test-layers test-unit test-fuzz-corpus test-bpf test-e2e test-broker test-startup test-client test-reload test-scenarios test-adversarial test-metrics test-fleet

# Folders include one way only (tests/layers/run.sh says which).
test-layers:
	bash tests/layers/run.sh

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

# The suites that feed hostile input to the daemon and tspc run the
# sanitizer build ($(SAN_BUILD)). Every ASan/UBSan/LSan report of any
# program they start goes to a file in $(SAN_BUILD)/reports/SUITE (the
# daemons run in the background, their exit codes unseen); a report
# fails the suite, and the suite is shown it.
SAN_ENV = ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:exitcode=66:log_path=$$reports/asan \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$$reports/ubsan \
	LSAN_OPTIONS=log_path=$$reports/lsan
define run_san_suite
	@reports=$(abspath $(SAN_BUILD))/reports/$(2); rm -rf $$reports; mkdir -p $$reports; \
	chmod 1777 $$reports; \
	BUILD=$(abspath $(SAN_BUILD)) $(SAN_ENV) bash $(1); rc=$$?; \
	if [ -n "$$(ls -A $$reports)" ]; then \
		for f in $$reports/*; do echo "== sanitizer report $$f"; cat $$f; done; \
		echo "$(1): FAILED: sanitizer reports (above)"; exit 1; \
	fi; \
	if [ $$rc = 77 ]; then echo "$(1): skipped (needs root and BPF)"; exit 0; fi; exit $$rc
endef

test-e2e: all
	$(call run_suite,tests/e2e/run.sh)

# The TSP broker driven as gogoc drives it.
test-broker: all san
	$(call run_san_suite,tests/broker/run.sh,broker)

# Failed starts: refusals before anything is attached, a first attach
# taken back, the verifier's verdict reported as such.
test-startup: all $(VREJ)/tspgw
	$(call run_suite,tests/startup/run.sh)

# tspc against the broker: real tunnels, reconnects, redirects, hooks.
test-client: all san
	$(call run_san_suite,tests/client/run.sh,client)

# Reload without drops: SIGHUP and `tspgw reload` under traffic, the
# sanitizer build (a reload swaps settings that sessions point into).
test-reload: all san
	$(call run_san_suite,tests/e2e/t_reload.sh,reload)

# Gateways sharing one database: heartbeats, `tspgw drain`, referrals
# that tspc follows (tests/fleet/), the daemons from the sanitizer build.
test-fleet: all san
	$(call run_san_suite,tests/fleet/run.sh,fleet)

# Whole-system scenarios through NAT, restarts and rebinding.
test-scenarios: all
	$(call run_suite,tests/e2e/scenarios.sh)

# Attacks on the gateway, tried for real (README "Security"): crafted
# packets (scapy, raw sockets) from tunnels, spoofers and hostile clients.
test-adversarial: all san
	$(call run_san_suite,tests/adversarial/run.sh,adversarial)

# /metrics scraped by a throwaway Prometheus (tests/metrics/run.sh), the
# daemon from the sanitizer build: its HTTP side faces the network too.
test-metrics: check-deps all san
	$(call run_san_suite,tests/metrics/run.sh,metrics)

# The live demo: TSP tunnels through a NAT and a public address, in
# network namespaces. (DEMO=1 bash tests/e2e/run.sh narrates the data-plane
# test with static tunnels.)
demo: check-deps
	$(MAKE) --no-print-directory all
	bash tests/e2e/demo.sh

# --- benchmarks ---------------------------------------------------------------
# `make bench` needs root; bench/README.md explains every figure. Output in
# $(BUILD)/bench (results.json, results.md, pkt_cost.png), never committed.
BENCH_SUPPORT := tests/bpf/bpf_fixture.c tests/bpf/pkt_build.c tests/bpf/netenv.c tests/bpf/expect.c

.PHONY: bench

$(BUILD)/bench:
	mkdir -p $@

# The BPF tests' fixture provisions the maps through the data plane's code.
$(BUILD)/bench/pkt_cost: bench/pkt_cost.c bench/helper_cost.h bench/pkt_loop.h $(BENCH_SUPPORT) $(wildcard tests/bpf/*.h) $(LIB_OBJS) $(USER_HDRS) $(SKELS) $(BUILD)/bench/tspgw_unhardened.skel.h $(BUILD)/bench/pkt_loop.skel.h | $(BUILD)/bench
	$(CC) $(GW_CFLAGS) -I$(BUILD)/bench bench/pkt_cost.c $(BENCH_SUPPORT) $(LIB_OBJS) -o $@ $(LDLIBS) -lcriterion

# Bench programs with a skeleton: NAME.tmp.bpf.o (clang, rules below) ->
# NAME.bpf.o (bpftool's linked object, the rule for every BPF object) ->
# NAME.skel.h, whose skeleton is NAME_bpf (not bench/NAME_bpf).
$(BUILD)/bench/%.skel.h: $(BUILD)/bench/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# The data plane built without its hardening checks (HARDENED() in
# bpf/bpf_consts.h), bench-only: pkt_cost runs it in the same rounds as the
# real one to show what the checks cost. tspgw never loads it.
$(BUILD)/bench/tspgw_unhardened.tmp.bpf.o: bpf/tspgw.bpf.c $(BPF_HDRS) vmlinux/vmlinux.h | $(BUILD)/bench
	$(CLANG) $(BPF_CFLAGS) -DTSPGW_BENCH_UNHARDENED -c $< -o $@

# Bench-only: puts a rewritten packet back before every repetition of
# BPF_PROG_RUN's loop (pkt_cost's kernel-loop figures of decap and encap).
$(BUILD)/bench/pkt_loop.tmp.bpf.o: bench/pkt_loop.bpf.c bench/pkt_loop.h vmlinux/vmlinux.h | $(BUILD)/bench
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Bench-only XDP programs timing single kernel helpers (loaded by pkt_cost).
$(BUILD)/bench/helper_cost.bpf.o: bench/helper_cost.bpf.c bench/helper_cost.h vmlinux/vmlinux.h | $(BUILD)/bench
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Section 2 (end-to-end forwarding): the live-frames generator and sink
# (fwd_gen + its BPF programs) and the userspace UDP<->TUN relay baseline.
FWD_BENCH := $(BUILD)/bench/fwd_gen $(BUILD)/bench/fwd_relay

$(BUILD)/bench/fwd_gen.tmp.bpf.o: bench/fwd_gen.bpf.c bench/fwd_gen.h vmlinux/vmlinux.h | $(BUILD)/bench
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/fwd_gen: bench/fwd_gen.c bench/fwd_gen.h bench/flows_file.h $(BUILD)/bench/fwd_gen.skel.h
	$(CC) $(GW_CFLAGS) -I$(BUILD)/bench bench/fwd_gen.c -o $@ -lbpf -lelf -lz

$(BUILD)/bench/fwd_relay: bench/fwd_relay.c bench/flows_file.h | $(BUILD)/bench
	$(CC) $(GW_CFLAGS) $< -o $@

# Section 3: the TSP load generator (libsasl2's client for DIGEST-MD5).
$(BUILD)/bench/broker_load: bench/broker_load.c | $(BUILD)/bench
	$(CC) $(GW_CFLAGS) $< -o $@ -lsasl2

# Section 4: fills the maps through the broker's own assign and map functions.
$(BUILD)/bench/scale: bench/scale.c $(LIB_OBJS) $(USER_HDRS) $(SKELS) | $(BUILD)/bench
	$(CC) $(GW_CFLAGS) bench/scale.c $(LIB_OBJS) -o $@ $(LDLIBS)

bench: check-deps
	$(MAKE) --no-print-directory all $(BUILD)/bench/pkt_cost $(BUILD)/bench/helper_cost.bpf.o \
		$(FWD_BENCH) $(BUILD)/bench/broker_load $(BUILD)/bench/scale
	$(call run_suite,bench/run.sh)

# --- container and least privilege ---------------------------------------------
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
