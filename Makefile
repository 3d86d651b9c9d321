# kpsim — one flat, non-recursive Makefile.
#
#   make            build build/kpsim and the layer libraries
#   make run        build, run the default catalog scenario, write its report
#   make test       unit tests, catalog, determinism, sanitizer run: "N passed, M failed"
#   make help       every target
#
# Layers (DESIGN.md): each directory is one static library, compiled with the
# include paths of the layers it may use and no others, so an include that
# points up the stack does not compile. The dependency lists below ARE the
# architecture:
#
#   protocol     <- nothing of ours
#   simnet       <- protocol
#   broker_mock  <- protocol
#   producer     <- protocol
#   reports      <- protocol
#   scenarios    <- reports producer simnet broker_mock protocol
#   tools        <- everything (the kpsim command line)
#
# Knobs: CC=clang, O=0, SANITIZER=address,undefined, BUILD=dir, LTO=0,
# FUZZ_SECONDS=N, SEEDS=A..B, JOBS=N.

BUILD      ?= build
O          ?= 2
SANITIZER  ?=
FUZZ_SECONDS ?= 30
SEEDS      ?= 1..2000
JOBS       ?= 2

# ---- Debian packages ------------------------------------------------------
DEB_PKGS := pkg-config libcmocka-dev libprotobuf-c-dev protobuf-c-compiler \
            protobuf-compiler gnuplot-nox faketime zlib1g-dev liblz4-dev \
            libzstd-dev libsnappy-dev clang valgrind
INTEROP_PKGS := librdkafka-dev kcat
PKG_MODULES := zlib liblz4 libzstd snappy libprotobuf-c

# pkg-config is asked once, when a recipe first needs it (after `deps` ran).
PKG_LIBS = $(if $(_pkg_libs),,$(eval _pkg_libs := $(shell pkg-config --libs $(PKG_MODULES) 2>/dev/null || echo -lz -llz4 -lzstd -lsnappy -lprotobuf-c)))$(_pkg_libs)
PKG_CFLAGS = $(if $(_pkg_cflags),,$(eval _pkg_cflags := $(shell pkg-config --cflags $(PKG_MODULES) 2>/dev/null) -DKP_PKG_CFLAGS_DONE))$(_pkg_cflags)
CMOCKA_LIBS = $(if $(_cm_libs),,$(eval _cm_libs := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)))$(_cm_libs)

# ---- flags ----------------------------------------------------------------
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 \
            -Wno-unused-parameter -Wvla -Wpointer-arith
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -O$(O) -g $(WARN) -MMD -MP $(PKG_CFLAGS) \
            $(if $(SANITIZER),-fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all) \
            $(LTO_CFLAGS) $(PGO_CFLAGS) -DKP_VERSION_STRING='"$(KP_VERSION)"' $(EXTRA_CFLAGS)
LDFLAGS_ALL = $(if $(SANITIZER),-fsanitize=$(SANITIZER)) $(EXTRA_LDFLAGS)

# ---- link-time optimisation of build/kpsim (gcc) --------------------------
# A record crosses module boundaries at every step (producer -> accumulator
# -> builder, runner -> checker, simnet -> broker), and LTO inlines across
# them. Objects carry both LTO bytecode and ordinary code
# (-ffat-lto-objects): only kpsim is linked with -flto; the unit tests link
# the ordinary code, so their builds cost no LTO link each. On by default
# for a gcc build without sanitizers; off for other compilers (clang's LTO
# needs a linker plugin) and with LTO=0. The measured effect is in
# docs/PERFORMANCE.md.
CC_IS_GCC := $(shell $(CC) -v 2>&1 | grep -q '^gcc version' && echo 1)
LTO ?= 1
ifeq ($(LTO)$(CC_IS_GCC)$(SANITIZER),11)
LTO_CFLAGS  := -flto=auto -ffat-lto-objects
LTO_LDFLAGS  = -flto=auto -O$(O)
AR          := gcc-ar
endif
LIBS_ALL = $(PKG_LIBS) -lm

# ---- profile-guided build of the benchmark binary (gcc) -------------------
# `make bench` and `make bench-compare` time $(PGO_BUILD)/kpsim: the same
# sources built twice by tools/pgo.sh, first instrumented
# (PGO_PHASE=gen), then, after a training run of the bench workloads at
# small sizes and of the catalog, with the counts (PGO_PHASE=use). It is
# checked to print the plain build's run digest for every catalog and
# bench scenario (tests/bench/pgo_same.sh) and is rebuilt whenever
# $(BUILD)/kpsim is. PGO=0, another compiler or a sanitizer: the benches
# time $(BUILD)/kpsim. Effect and reasons in docs/PERFORMANCE.md.
PGO ?= 1
PGO_BUILD := $(BUILD)/pgo
ifeq ($(PGO_PHASE),gen)
PGO_CFLAGS  := -fprofile-generate -fprofile-update=single
PGO_LDFLAGS := -fprofile-generate
endif
ifeq ($(PGO_PHASE),use)
PGO_CFLAGS  := -fprofile-use -fprofile-partial-training -Wno-missing-profile
PGO_LDFLAGS := -fprofile-use -fprofile-partial-training
endif
ifeq ($(PGO)$(CC_IS_GCC)$(SANITIZER),11)
BENCH_KPSIM := $(PGO_BUILD)/kpsim
else
BENCH_KPSIM := $(BUILD)/kpsim
endif

# ---- layers ---------------------------------------------------------------
LAYERS := protocol simnet broker_mock producer reports scenarios

deps_protocol    := protocol
deps_simnet      := simnet protocol
deps_broker_mock := broker_mock protocol
deps_producer    := producer protocol
deps_reports     := reports protocol
deps_scenarios   := scenarios reports producer simnet broker_mock protocol
deps_tools       := $(deps_scenarios)

GEN := $(BUILD)/gen
# Include flags of a layer: its own and its dependencies' dirs plus their
# generated protobuf code.
inc_of = $(foreach d,$(deps_$(1)),-I$(d) -I$(GEN)/$(d))
lib_of = $(BUILD)/lib/libkp_$(1).a
libs_of = $(foreach d,$(deps_$(1)),$(call lib_of,$(d)))

# protobuf-c: every LAYER/*.proto becomes $(GEN)/LAYER/*.pb-c.{c,h}
PROTOS      := $(foreach l,$(LAYERS),$(wildcard $(l)/*.proto))
PROTO_C     := $(patsubst %.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PROTO_H     := $(PROTO_C:.c=.h)

define LAYER_RULES
SRC_$(1) := $$(wildcard $(1)/*.c)
OBJ_$(1) := $$(patsubst %.c,$(BUILD)/obj/%.o,$$(SRC_$(1))) \
            $$(patsubst $(GEN)/%.c,$(BUILD)/obj/gen/%.o,$$(filter $(GEN)/$(1)/%,$$(PROTO_C)))
$(BUILD)/obj/$(1)/%.o: $(1)/%.c | $$(filter $$(foreach d,$$(deps_$(1)),$(GEN)/$$(d)/%),$$(PROTO_H))
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS_ALL) $$(call inc_of,$(1)) -c $$< -o $$@
$(BUILD)/obj/gen/$(1)/%.o: $(GEN)/$(1)/%.c $(GEN)/$(1)/%.h
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS_ALL) -Wno-shadow -I$(GEN)/$(1) -c $$< -o $$@
$(call lib_of,$(1)): $$(OBJ_$(1))
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call LAYER_RULES,$(l))))

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: %.proto
	@mkdir -p $(dir $(GEN)/$*)
	protoc-c --c_out=$(GEN)/$(dir $*) -I$(dir $<) $<

ALL_LIBS := $(foreach l,$(LAYERS),$(call lib_of,$(l)))

# ---- the command line -----------------------------------------------------
SRC_tools := $(wildcard tools/*.c)
OBJ_tools := $(patsubst %.c,$(BUILD)/obj/%.o,$(SRC_tools))
$(BUILD)/obj/tools/%.o: tools/%.c | $(PROTO_H)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(call inc_of,tools) -DKP_VERSION='"$(KP_VERSION)"' -c $< -o $@
KP_VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

$(BUILD)/kpsim: $(OBJ_tools) $(call libs_of,tools)
	$(CC) $(LDFLAGS_ALL) $(LTO_LDFLAGS) $(PGO_LDFLAGS) -o $@ $(OBJ_tools) $(call libs_of,tools) $(LIBS_ALL)

# ---- unit tests: tests/unit/LAYER/test_*.c, one driver per module ---------
# Every other .c in tests/unit/LAYER/ is a fake or helper linked into that
# layer's drivers. A driver links its layer's library and the layers below.
define TEST_RULES
TSRC_$(1) := $$(wildcard tests/unit/$(1)/test_*.c)
TSUP_$(1) := $$(patsubst %.c,$(BUILD)/obj/%.o,$$(filter-out tests/unit/$(1)/test_%,$$(wildcard tests/unit/$(1)/*.c)))
TBIN_$(1) := $$(patsubst tests/unit/$(1)/%.c,$(BUILD)/tests/$(1)/%,$$(TSRC_$(1)))
$(BUILD)/obj/tests/unit/$(1)/%.o: tests/unit/$(1)/%.c | $$(PROTO_H)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS_ALL) -Wno-unused-function $$(call inc_of,$(1)) -Itests/unit/$(1) -Itests/unit -c $$< -o $$@
$(BUILD)/tests/$(1)/%: $(BUILD)/obj/tests/unit/$(1)/%.o $$(TSUP_$(1)) $$(call libs_of,$(1))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$< $$(TSUP_$(1)) $$(call libs_of,$(1)) $$(CMOCKA_LIBS) $$(LIBS_ALL)
UNIT_TESTS += $$(TBIN_$(1))
.PHONY: unit-$(1)
unit-$(1): $$(TBIN_$(1))
	@tests/run_tests.sh --build $(BUILD) --unit-only --layer $(1)
endef
$(foreach l,$(LAYERS),$(eval $(call TEST_RULES,$(l))))

# ---- fuzz targets: tests/fuzz/fuzz_*.c (clang libFuzzer) ------------------
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_BUILD := build/fuzz

# ---- benches: tests/bench/bench_*.c ---------------------------------------
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BIN := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
$(BUILD)/obj/tests/bench/%.o: tests/bench/%.c | $(PROTO_H)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(call inc_of,tools) -c $< -o $@
$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(call libs_of,tools)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(call libs_of,tools) $(LIBS_ALL)

# ---- top-level targets ----------------------------------------------------
.DEFAULT_GOAL := all
.SECONDARY:
.DELETE_ON_ERROR:
.PHONY: all run test test-unit test-cli asan fuzz bench bench-compare bench-check pgo clean deps interop-deps interop \
        help tidy deps-check compdb valgrind sweep

all: | deps
	@$(MAKE) --no-print-directory $(BUILD)/kpsim

deps:
	@tools/deps.sh $(DEB_PKGS)

interop-deps:
	@tools/deps.sh $(INTEROP_PKGS)

# The main job: the default catalog scenario with its report.
RUN_SCENARIO ?= scenarios/catalog/leader_move_retry.textpb
RUN_REPORT   ?= build/report
run: | deps
	@$(MAKE) --no-print-directory $(BUILD)/kpsim
	$(BUILD)/kpsim run $(RUN_SCENARIO) --report $(RUN_REPORT)

test: | deps
	@$(MAKE) --no-print-directory test-build
	@tests/run_tests.sh --build $(BUILD) $(if $(SKIP_ASAN),,--asan)

test-build: $(BUILD)/kpsim $(UNIT_TESTS)

test-unit: $(UNIT_TESTS)
	@tests/run_tests.sh --build $(BUILD) --unit-only

asan: | deps
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZER=address,undefined O=1 test-build
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run_tests.sh --build build/asan

fuzz: | deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang O=1 \
	    SANITIZER=fuzzer-no-link,address,undefined $(foreach l,$(LAYERS),$(FUZZ_BUILD)/lib/libkp_$(l).a)
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

# The seed sweep (kpsim sweep, DESIGN.md "The command line"): every catalog
# scenario with a chaos block — each seed a different random fault
# schedule — or, while the catalog has none, every catalog scenario; over
# SEEDS with JOBS processes. Per scenario: $(BUILD)/sweep/NAME.txt (what it
# printed), NAME.tsv (per-seed results, `kpsim sweep --merge` input) and
# NAME.xml (JUnit). SWEEP_FLAGS is passed on (e.g. "--shard 2/4 --shrink").
SWEEP_CHAOS     = $(shell grep -l '^[[:space:]]*chaos[[:space:]]*{' scenarios/catalog/*.textpb 2>/dev/null)
SWEEP_SCENARIOS ?= $(or $(SWEEP_CHAOS),$(wildcard scenarios/catalog/*.textpb))
SWEEP_FLAGS     ?=
sweep: | deps
	@$(MAKE) --no-print-directory $(BUILD)/kpsim
	@mkdir -p $(BUILD)/sweep; p=0; f=0; rc=0; \
	for s in $(SWEEP_SCENARIOS); do \
	  n=$$(basename $$s .textpb); echo "== $$s: seeds $(SEEDS), $(JOBS) jobs"; \
	  $(BUILD)/kpsim sweep $$s --seeds $(SEEDS) --jobs $(JOBS) $(SWEEP_FLAGS) --out $(BUILD)/sweep/$$n.tsv \
	      --junit $(BUILD)/sweep/$$n.xml >$(BUILD)/sweep/$$n.txt; r=$$?; cat $(BUILD)/sweep/$$n.txt; \
	  [ $$r -gt $$rc ] && rc=$$r; \
	  l=$$(tail -n1 $(BUILD)/sweep/$$n.txt | grep -E '^[0-9]+ passed, [0-9]+ failed$$') || { rc=2; continue; }; \
	  set -- $$l; p=$$((p + $$1)); f=$$((f + $$3)); \
	done; echo "sweep: $$p passed, $$f failed"; exit $$rc

# `make valgrind`: every catalog scenario under memcheck (--error-exitcode=1
# --leak-check=full; definite and indirect leaks fail), JOBS at a time, logs
# in $(BUILD)/valgrind (tests/valgrind/run.sh). Not part of `make test`.
valgrind: | deps
	@$(MAKE) --no-print-directory $(BUILD)/kpsim
	@VALGRIND_LOGS=$(BUILD)/valgrind tests/valgrind/run.sh $(BUILD)/kpsim $(JOBS)

# `make bench`: the micro-benchmarks, then `kpsim bench` (the issue-11
# workloads in scenarios/bench/; BENCH_FLAGS e.g. "--only throughput").
BENCH_FLAGS ?=
bench: | deps
	@$(MAKE) --no-print-directory $(BENCH_KPSIM) $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b || exit 1; done
	$(BENCH_KPSIM) bench $(BENCH_FLAGS)

# `make pgo`: only the profile-guided binary (see PGO above).
pgo: | deps
	@$(MAKE) --no-print-directory $(BENCH_KPSIM)

$(PGO_BUILD)/kpsim: $(BUILD)/kpsim
	@MAKE="$(MAKE)" PGO_MAKEFLAGS="CC=$(CC) O=$(O) LTO=$(LTO)" tools/pgo.sh $(PGO_BUILD) $(BUILD)/kpsim

# `make bench-compare`: the same shapes through librdkafka's in-process
# mock cluster (tests/bench/rdk_compare.c, the only thing linked against
# librdkafka), kpsim's runs in the same invocation, and their ratio.
RDK_LIBS = $(shell pkg-config --libs rdkafka 2>/dev/null || echo -lrdkafka)
$(BUILD)/bench/rdk_compare: tests/bench/rdk_compare.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(LDFLAGS_ALL) $(RDK_LIBS) -lm
bench-compare: | deps
	@pkg-config --exists rdkafka 2>/dev/null || { echo "bench-compare: needs librdkafka-dev (make interop-deps)"; exit 2; }
	@$(MAKE) --no-print-directory $(BENCH_KPSIM) $(BUILD)/bench/rdk_compare
	$(BUILD)/bench/rdk_compare --kpsim $(BENCH_KPSIM)

# `make bench-check`: callgrind instruction count of workload (a) at a small
# size against tests/bench/callgrind_baseline.txt; fails above +10%.
# UPDATE=1 records the current count (commit it with the change that
# caused it). Not part of `make test`: valgrind is slow.
bench-check: | deps
	@$(MAKE) --no-print-directory $(BUILD)/kpsim
	@tests/bench/callgrind_check.sh $(BUILD)/kpsim tests/bench/callgrind_baseline.txt $(if $(UPDATE),--update)

# `make interop`: kpsim against peers we did not write — librdkafka's mock
# cluster, consumer, producer and murmur2 partitioner (tests/interop/
# rdk_helper.c) and kcat — run by tests/interop/run.sh, which prints the
# table (also in $(BUILD)/interop/table.md). Installs librdkafka-dev and
# kcat when missing. A quick subset runs in make test (tests/suites/interop.sh).
$(BUILD)/interop/rdk_helper: tests/interop/rdk_helper.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) $$(pkg-config --cflags rdkafka 2>/dev/null) -o $@ $< $(RDK_LIBS) -lpthread
interop: | deps
	@tools/deps.sh $(INTEROP_PKGS)
	@$(MAKE) --no-print-directory $(BUILD)/kpsim $(BUILD)/interop/rdk_helper
	@tests/interop/run.sh --kpsim $(BUILD)/kpsim --helper $(BUILD)/interop/rdk_helper --table $(BUILD)/interop/table.md

# `make mutants`: the mutation suite (tests/mutants/run.sh). kpsim is
# built once per deliberate defect (-DKP_MUTANT_NAME; the hooks sit in
# producer/ and broker_mock/) in $(MUTANTS_PREFIX)-NAME; the catalog and a
# short chaos sweep run against each, and the four historical-bug switches
# against their bug_kafka_* scenarios. Prints which scenario catches which
# mutant (also $(BUILD)/mutants-table.md); fails if one is missed or if the
# unmutated build fails anything. Not part of make test (minutes).
# MUTANTS_FLAGS e.g. "--only NO_MUTE".
MUTANTS_PREFIX ?= $(if $(filter build,$(BUILD)),build/mut,$(BUILD)-mut)
MUTANTS_FLAGS  ?=
.PHONY: mutants
mutants: | deps
	@tests/mutants/run.sh --build $(BUILD) --prefix $(MUTANTS_PREFIX) --jobs $(JOBS) $(MUTANTS_FLAGS)

tidy:
	@tools/tidy.sh

deps-check:
	@tools/deps_check.sh

compdb:
	@command -v bear >/dev/null || { echo "compdb: needs bear (apt-get install bear)"; exit 2; }
	bear -- $(MAKE) -B $(BUILD)/kpsim $(UNIT_TESTS)

clean:
	rm -rf build

help:
	@echo "make            build build/kpsim"
	@echo "make run        build, run RUN_SCENARIO (default leader_move_retry) with its report in build/report"
	@echo "make test       unit tests (+ ASan/UBSan run); prints 'N passed, M failed'"
	@echo "make test-unit  unit tests only, no sanitizer run"
	@echo "make unit-LAYER one layer's unit tests (e.g. make unit-protocol)"
	@echo "make asan       unit tests built with -fsanitize=address,undefined"
	@echo "make fuzz       each libFuzzer target for FUZZ_SECONDS (default 30)"
	@echo "make valgrind   every catalog scenario under valgrind memcheck (errors and leaks fail)"
	@echo "make bench      micro-benchmarks, then kpsim bench (the workloads in scenarios/bench/)"
	@echo "make bench-compare  kpsim bench's throughput/faults next to librdkafka's mock cluster, with ratios"
	@echo "make pgo            the profile-guided build the benches time ($(BUILD)/pgo/kpsim; PGO=0: the plain one)"
	@echo "make bench-check    callgrind instruction count of a small throughput run vs tests/bench/callgrind_baseline.txt"
	@echo "make sweep      kpsim sweep over SEEDS (default 1..2000) of the chaos catalog scenarios, JOBS processes"
	@echo "make interop    kpsim vs librdkafka (mock cluster, consumer, producer, partitioner) and kcat: the table"
	@echo "make mutants    the mutation suite: one deliberate defect per build, which scenario catches it (not in make test)"
	@echo "make tidy       reject real clocks/randomness/sockets outside the seams"
	@echo "make deps-check includes point down the layer stack only"
	@echo "make compdb     compile_commands.json (needs bear)"
	@echo "make deps       install missing Debian packages (root) or print the apt-get line"
	@echo "make clean      remove build/"

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
