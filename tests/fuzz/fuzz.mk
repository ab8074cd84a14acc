# SPDX-License-Identifier: BSD-2-Clause
# Fuzzing, included by the Makefile. Each tests/fuzz/fuzz_<name>.c
# is a libFuzzer harness (LLVMFuzzerTestOneInput). It is built twice:
#   $(BUILD)/fuzz/fuzz_<name>     clang -fsanitize=fuzzer,address,undefined,
#                                 for `make fuzz` (tests/fuzz/run.sh);
#   $(BUILD)/fuzz/replay_<name>   the same code with tests/fuzz/replay_main.c
#                                 instead of libFuzzer, under ASan/UBSan, for
#                                 `make test-fuzz-corpus` (part of make test),
#                                 which replays tests/fuzz/corpus/<name>/*.
# The gateway's harnesses link the userspace library (LIB_SRCS), compiled a
# third time with clang's coverage instrumentation; tspc's link client/.

FUZZ_NAMES   := tsp_session tsp_xml sasl config tspc_reply
FUZZ_GW      := tsp_session tsp_xml sasl config
FUZZ_CLIENT  := tspc_reply
FUZZ_SECONDS ?= 60
FUZZ_MERGE   ?= 0

# libFuzzer's runtime ships in libclang-rt-14-dev (Debian 12's clang).
FUZZ_DEB_PACKAGES := clang libclang-rt-14-dev sasl2-bin

FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# clang knows no -Wformat-truncation; our flags otherwise as for the build.
FUZZ_WARN    := $(WARN) -Wno-unknown-warning-option
FUZZ_CFLAGS  := -O1 -g $(CSTD) $(FUZZ_WARN) $(FUZZ_SAN)
FUZZ_GW_INC  := -I. -I$(BUILD) -I/usr/include/libxml2
FUZZ_CL_INC  := -I. -I/usr/include/libxml2
FUZZ_HDRS    := $(wildcard tests/fuzz/*.h)

LIB_OBJS_FUZZ    := $(patsubst %.c,$(BUILD)/obj-fuzz/%.o,$(LIB_SRCS))
CLIENT_OBJS_FUZZ := $(patsubst %.c,$(BUILD)/obj-fuzz/%.o,$(CLIENT_SRCS))

FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))
REPLAY_BINS  := $(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-build fuzz-deps test-fuzz-corpus

$(BUILD)/fuzz:
	mkdir -p $@

# The gateway's folders (GW_DIRS) and common/prefix.c, which tspc shares.
$(BUILD)/obj-fuzz/%.o: %.c $(USER_HDRS) $(SKELS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_GW_INC) -c $< -o $@

$(BUILD)/obj-fuzz/client/%.o: client/%.c $(CLIENT_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_CL_INC) -c $< -o $@

$(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_GW)): $(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(LIB_OBJS_FUZZ) | $(BUILD)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_GW_INC) $< $(LIB_OBJS_FUZZ) -o $@ $(LDLIBS)

$(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_CLIENT)): $(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(CLIENT_OBJS_FUZZ) | $(BUILD)/fuzz
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_CL_INC) $< $(CLIENT_OBJS_FUZZ) -o $@ $(CLIENT_LIBS)

# Replay binaries: gcc, the unit tests' sanitizer objects.
$(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_GW)): $(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(FUZZ_HDRS) $(LIB_OBJS_SAN) | $(BUILD)/fuzz
	$(CC) $(GW_CFLAGS) $(SAN_CFLAGS) $< tests/fuzz/replay_main.c $(LIB_OBJS_SAN) -o $@ $(LDLIBS)

$(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_CLIENT)): $(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(FUZZ_HDRS) $(CLIENT_SRCS) $(CLIENT_HDRS) | $(BUILD)/fuzz
	$(CC) $(CLIENT_CFLAGS) $(SAN_CFLAGS) $< tests/fuzz/replay_main.c $(CLIENT_SRCS) -o $@ $(CLIENT_LIBS)

fuzz-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(FUZZ_DEB_PACKAGES)"

fuzz-build: $(FUZZ_BINS)

# Each harness FUZZ_SECONDS (default 60) into a scratch corpus under
# $(BUILD)/fuzz; FUZZ_MERGE=1 merges what it found into tests/fuzz/corpus.
# FUZZ_ONLY="sasl config" runs a subset; FUZZ_JOBS harnesses at a time
# (default: the number of CPUs).
fuzz: check-deps fuzz-deps
	$(MAKE) --no-print-directory fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_MERGE=$(FUZZ_MERGE) BUILD=$(BUILD) \
		bash tests/fuzz/run.sh $(or $(FUZZ_ONLY),$(FUZZ_NAMES))

# Every checked-in corpus file through its harness: the crashes found so
# far stay fixed.
test-fuzz-corpus: $(REPLAY_BINS)
	BUILD=$(BUILD) bash tests/fuzz/replay.sh $(FUZZ_NAMES)
