# gpuattest build. Plain make, no generator: every .c under src/<layer>/ is part of
# libgpuattest except src/cli (the tool) and test_*.c files (one test binary each).
#
#   make            library + gpuattest CLI + simulator
#   make check      build and run the whole test suite (tests/run-all.sh)
#   make SAN=1 check   the same under AddressSanitizer + UBSan (separate build dir)
#   make fuzz       libFuzzer targets (clang)
#   make bench      benchmarks under bench/
#   make install    PREFIX=/usr/local DESTDIR= BINDIR LIBDIR INCLUDEDIR MANDIR ...
#
# The builder's CPPFLAGS, CFLAGS and LDFLAGS are honoured: they come after the
# project's own flags, so a distribution's hardening and -O choice win.
# WERROR=1 (-Werror) is the default in a git checkout (development, CI);
# WERROR=0 elsewhere (a release tarball), and bootstrap and debian/rules
# pass WERROR=0: a newer compiler's new warning must not break a user's or a
# distribution's build. Changing any flag rebuilds everything ($(BUILD)/flags).
#
# Built: $(BUILD)/libgpuattest.a, the internal archive the CLI, tests and
# benchmarks link (every symbol of every layer); and the public libraries in
# $(BUILD)/lib: libgpuattest.so.0 (hidden visibility, only gpuattest_*
# exported through src/api/libgpuattest.map) and libgpuattest.a (the same
# objects as one relocatable object whose only global symbols are
# gpuattest_*), with gpuattest.pc.

CC      ?= cc
PKGS    := openssl hogweed libcurl libxml-2.0 xmlsec1-openssl jansson jose libmicrohttpd sqlite3 libpq gnutls
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Linked: OpenSSL, Nettle (hogweed, with GMP: P-384 ECDSA, see
# src/x509/p384.c) and jansson. libcurl (src/net/http.c) and libxml2 +
# xmlsec1 (src/rim/xmllib.c) are loaded with dlopen when first needed, so
# that they cost nothing at process start.
LINK_PKGS  := openssl hogweed nettle jansson jose
PKG_LIBS   := $(shell pkg-config --libs $(LINK_PKGS) 2>/dev/null) -lgmp
# The verifier service (src/service, src/audit): libmicrohttpd, SQLite,
# libpq and GnuTLS (libmicrohttpd's TLS: client certificates), linked only into the programs that use them (--as-needed); not part
# of the public libraries (PUB_OBJ).
PKG_LIBS   += -Wl,--as-needed $(shell pkg-config --libs libmicrohttpd sqlite3 libpq gnutls 2>/dev/null) -Wl,--no-as-needed
# For the simulator's test, which reads the signed RIMs it makes.
XML_LIBS   := $(shell pkg-config --libs libxml-2.0 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter \
           -Wno-unknown-warning-option -Wno-format-truncation
WERROR  ?= $(if $(wildcard .git),1,0)
ifeq ($(WERROR),1)
  WARN  += -Werror
endif
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT     ?= -O2 -g
ifeq ($(SAN),1)
  BUILD ?= build-san
  OPT   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
  LDSAN := -fsanitize=address,undefined
else
  BUILD ?= build
endif

CFLAGS_ALL := $(CSTD) $(OPT) $(WARN) -fPIC -fvisibility=hidden -Iinclude -Isrc $(PKG_CFLAGS) \
              $(CPPFLAGS) $(CFLAGS)
LDLIBS_ALL := $(PKG_LIBS) -ldl -lpthread $(LDLIBS)

# The flags in use, recorded so that a change of flags rebuilds.
FLAGS      := $(BUILD)/flags
FLAGS_NOW  := $(CC) $(CFLAGS_ALL) | $(LDSAN) $(LDFLAGS) | $(LDLIBS_ALL)
ifneq ($(FLAGS_NOW),$(file <$(FLAGS)))
  $(shell mkdir -p $(BUILD))
  $(file >$(FLAGS),$(FLAGS_NOW))
endif

TEST_SRC := $(wildcard src/*/test_*.c)
LIB_SRC  := $(filter-out src/cli/% $(TEST_SRC),$(wildcard src/*/*.c))
CLI_SRC  := $(wildcard src/cli/*.c)
SIM_SRC  := $(wildcard sim/*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
# The public libraries carry the verifier, not the service around it.
PUB_OBJ  := $(filter-out $(BUILD)/obj/src/service/% $(BUILD)/obj/src/audit/%,$(LIB_OBJ))
TEST_BIN := $(patsubst src/%.c,$(BUILD)/tests/%,$(TEST_SRC))
LIB      := $(BUILD)/libgpuattest.a
CLI      := $(BUILD)/gpuattest

VERSION  := $(shell sed -n 's/^\#define GPUATTEST_VERSION "\(.*\)"/\1/p' include/gpuattest.h)
SONAME   := libgpuattest.so.0
PUB_DIR  := $(BUILD)/lib
PUB_SO   := $(PUB_DIR)/libgpuattest.so.$(VERSION)
PUB_A    := $(PUB_DIR)/libgpuattest.a
PUB_PC   := $(PUB_DIR)/gpuattest.pc
PUB_MAP  := src/api/libgpuattest.map

.PHONY: all check test tests fuzz bench clean demo sim install uninstall
all: $(LIB) $(CLI) sim $(PUB_SO) $(PUB_A) $(PUB_PC)

$(BUILD)/obj/%.o: %.c $(wildcard include/*.h src/*/*.h) $(FLAGS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

# The shared library: only gpuattest_* leaves it (hidden visibility plus the
# version script), and it must resolve everything it uses at link time.
$(PUB_SO): $(PUB_OBJ) $(PUB_MAP)
	@mkdir -p $(dir $@)
	@echo "  SO      $@"
	@$(CC) -shared $(LDSAN) $(LDFLAGS) $(if $(LDSAN),,-Wl,-z,defs) -Wl,-soname,$(SONAME) \
		-Wl,--version-script=$(PUB_MAP) -o $@ $(PUB_OBJ) $(LDLIBS_ALL)
	@ln -sf $(notdir $@) $(PUB_DIR)/$(SONAME)
	@ln -sf $(SONAME) $(PUB_DIR)/libgpuattest.so

# The public static archive: all objects as one (ld -r), every global symbol
# but gpuattest_* made local, so that a program linking it meets no name of
# ours besides the API (no file_read, no hex_decode). Needs objects without
# LTO-only code: debian/rules builds with optimize=-lto.
$(PUB_A): $(PUB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	@$(LD) -r -o $(PUB_DIR)/gpuattest-all.o $(PUB_OBJ)
	@objcopy --wildcard --keep-global-symbol='gpuattest_*' $(PUB_DIR)/gpuattest-all.o $(PUB_DIR)/gpuattest.o
	@rm -f $@ $(PUB_DIR)/gpuattest-all.o && ar rcs $@ $(PUB_DIR)/gpuattest.o

$(CLI): $(CLI_OBJ) $(LIB)
	@echo "  LD      $@"
	@$(CC) $(LDSAN) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_ALL)

$(BUILD)/tests/%: src/%.c $(LIB) tests/harness.h
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(CFLAGS_ALL) -Itests $(LDSAN) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS_ALL)

tests: $(TEST_BIN) $(CLI) sim $(PUB_SO)

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
# Kept between builds: make would delete them as intermediate files and
# rebuild every object for each target.
.SECONDARY: $(FUZZ_LIB_OBJ)
fuzz: $(FUZZ_BIN)

BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	@$(CC) $(CFLAGS_ALL) $(LDSAN) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS_ALL)
bench: $(BENCH_BIN) $(CLI) sim
	BUILD=$(BUILD) bench/run.sh

clean:
	rm -rf build build-san build-fuzz

include install.mk

# A simulated 8-GPU confidential system, verified by the real CLI: a pass and
# a tampered-firmware failure, labelled SIMULATED (test PKI, never NVIDIA's).
demo: $(CLI) sim
	BUILD=$(BUILD) bash scripts/demo.sh
