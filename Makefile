# gpuattest build. Plain make, no generator: every .c under src/<layer>/ is part of
# libgpuattest except src/cli (the tool) and test_*.c files (one test binary each).
#
#   make            library + gpuattest CLI + simulator
#   make check      build and run the whole test suite (tests/run-all.sh)
#   make SAN=1 check   the same under AddressSanitizer + UBSan (separate build dir)
#   make fuzz       libFuzzer targets (clang)
#   make bench      benchmarks under bench/

CC      ?= cc
PKGS    := openssl hogweed libcurl libxml-2.0 xmlsec1-openssl jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Linked: OpenSSL, Nettle (hogweed, with GMP: P-384 ECDSA, see
# src/x509/p384.c) and jansson. libcurl (src/net/http.c) and libxml2 +
# xmlsec1 (src/rim/xmllib.c) are loaded with dlopen when first needed, so
# that they cost nothing at process start.
PKG_LIBS   := $(shell pkg-config --libs openssl hogweed jansson 2>/dev/null) -lgmp
# For the simulator's test, which reads the signed RIMs it makes.
XML_LIBS   := $(shell pkg-config --libs libxml-2.0 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter \
           -Wno-unknown-warning-option -Wno-format-truncation
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT     ?= -O2 -g
ifeq ($(SAN),1)
  BUILD ?= build-san
  OPT   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN := -fsanitize=address,undefined
else
  BUILD ?= build
endif

CFLAGS_ALL := $(CSTD) $(OPT) $(WARN) -fPIC -Iinclude -Isrc $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -ldl -lpthread $(LDLIBS)

TEST_SRC := $(wildcard src/*/test_*.c)
LIB_SRC  := $(filter-out src/cli/% $(TEST_SRC),$(wildcard src/*/*.c))
CLI_SRC  := $(wildcard src/cli/*.c)
SIM_SRC  := $(wildcard sim/*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(patsubst src/%.c,$(BUILD)/tests/%,$(TEST_SRC))
LIB      := $(BUILD)/libgpuattest.a
CLI      := $(BUILD)/gpuattest

.PHONY: all check test tests fuzz bench clean demo sim
all: $(LIB) $(CLI) sim

$(BUILD)/obj/%.o: %.c $(wildcard include/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIB)
	@echo "  LD      $@"
	@$(CC) $(LDSAN) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_ALL)

$(BUILD)/tests/%: src/%.c $(LIB) tests/harness.h
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS_ALL) -Itests $(LDSAN) -o $@ $< $(LIB) $(LDLIBS_ALL)

tests: $(TEST_BIN) $(CLI) sim

# The simulator (issue 4/5) builds shared libraries with the NVML / NSCQ ABI.
-include sim/sim.mk
sim:

check test: tests
	BUILD=$(BUILD) tests/run-all.sh

FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)
build-fuzz/obj/%.o: %.c $(wildcard include/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@clang $(CSTD) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -Iinclude -Isrc $(PKG_CFLAGS) -c $< -o $@
build-fuzz/%: fuzz/%.c $(FUZZ_LIB_OBJ)
	@echo "  FUZZ    $@"
	@clang $(CSTD) -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude -Isrc $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS_ALL)
fuzz: $(FUZZ_BIN)

BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	@$(CC) $(CFLAGS_ALL) $(LDSAN) -o $@ $< $(LIB) $(LDLIBS_ALL)
bench: $(BENCH_BIN) $(CLI) sim
	BUILD=$(BUILD) bench/run.sh

clean:
	rm -rf build build-san build-fuzz

# A simulated 8-GPU confidential system, verified by the real CLI: a pass and
# a tampered-firmware failure, labelled SIMULATED (test PKI, never NVIDIA's).
demo: $(CLI) sim
	BUILD=$(BUILD) bash scripts/demo.sh
