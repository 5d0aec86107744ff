# postern - top-level build.
#
#   make            install missing Debian packages, build lib/ and every program
#   make test       ... then unit tests (also under ASan+UBSan), fuzzers, integration tests
#   make run        ... then start a private instance (see README)
#   make install    PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc/postern
#
# Layout: lib/*.c -> build/lib/libpostern.a; DIR/*.c for each daemon DIR ->
# build/libexec/DIR; commands/NAME/*.c -> build/sbin/NAME; tests/progs/NAME/*.c
# -> build/tests/NAME. Extra rules live in mk/*.mk.

SHELL       := /bin/bash
BUILD       := build
CC          := gcc
CLANG       := clang
OPT         ?= -O2 -g
WARN        := -Wall -Wextra -Werror
CPPFLAGS    := -D_GNU_SOURCE -Ilib -I$(BUILD)/gen
CFLAGS_ALL   = -std=gnu11 $(OPT) $(WARN) $(CPPFLAGS) $(CFLAGS)
LDLIBS_ALL  := -Wl,--as-needed -ldb -lpcre2-8 -lsasl2 -lspf2 -llmdb -lcdb -lssl -lcrypto -lresolv
SAN         := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

PREFIX      ?= /usr/local
SYSCONFDIR  ?= /etc/postern
DESTDIR     ?=

DAEMON_DIRS := master smtpd cleanup qmgr pickup bounce showq smtp local virtual discard error
DAEMONS     := $(foreach d,$(DAEMON_DIRS),$(if $(wildcard $(d)/*.c),$(d)))
COMMANDS    := $(notdir $(patsubst %/,%,$(dir $(wildcard commands/*/*.c))))
COMMANDS    := $(sort $(COMMANDS))
TESTPROGS   := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard tests/progs/*/*.c)))))

LIB_SRC     := $(sort $(wildcard lib/*.c))
LIB_OBJ     := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_A       := $(BUILD)/lib/libpostern.a
PARAMS_DEF  := $(BUILD)/gen/params.def
PARAM_FILES := $(sort $(wildcard lib/params/*.def))

PROGRAMS    := $(DAEMONS:%=$(BUILD)/libexec/%) $(COMMANDS:%=$(BUILD)/sbin/%) \
               $(TESTPROGS:%=$(BUILD)/tests/%)

.PHONY: all build deps test test-unit test-fuzz test-integration run install clean
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory build

.SECONDEXPANSION:
build: $(LIB_A) $(PROGRAMS) $$(EXTRA_BUILD)

deps:
	@tools/deps.sh

$(PARAMS_DEF): $(PARAM_FILES) | $(BUILD)/gen
	@cat /dev/null $(PARAM_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen:
	@mkdir -p $@

$(BUILD)/obj/%.o: %.c | $(PARAMS_DEF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

# one link rule per program: $(1) = output, $(2) = source directory
define PROGRAM_template
$(1): $$(patsubst %.c,$(BUILD)/obj/%.o,$$(sort $$(wildcard $(2)/*.c))) $(LIB_A)
	@mkdir -p $$(dir $$@)
	$(CC) $(OPT) -o $$@ $$(filter %.o,$$^) $(LIB_A) $(LDLIBS_ALL)
endef
$(foreach d,$(DAEMONS),$(eval $(call PROGRAM_template,$(BUILD)/libexec/$(d),$(d))))
$(foreach c,$(COMMANDS),$(eval $(call PROGRAM_template,$(BUILD)/sbin/$(c),commands/$(c))))
$(foreach t,$(TESTPROGS),$(eval $(call PROGRAM_template,$(BUILD)/tests/$(t),tests/progs/$(t))))

# ---- unit tests: cmocka, built twice: plain and under ASan+UBSan ----
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
UNIT_SAN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit-san/%)
SAN_OBJ     := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
SAN_A       := $(BUILD)/san/libpostern.a

$(BUILD)/san/%.o: %.c | $(PARAMS_DEF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(SAN) -MMD -MP -c $< -o $@

$(SAN_A): $(SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $< $(LIB_A) -lcmocka $(LDLIBS_ALL)

$(BUILD)/unit-san/%: $(BUILD)/san/tests/unit/%.o $(SAN_A)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(SAN) -o $@ $< $(SAN_A) -lcmocka $(LDLIBS_ALL)

test-unit: build $(UNIT_BINS) $(UNIT_SAN)
	@tools/run-unit-tests.sh $(UNIT_BINS) $(UNIT_SAN)

# ---- fuzzers: libFuzzer (clang), each run for FUZZ_SECONDS ----
FUZZ_SECONDS ?= 10
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_CFLAGS  = -std=gnu11 -O1 -g $(CPPFLAGS) -fsanitize=fuzzer-no-link,address,undefined
FUZZ_OBJ    := $(LIB_SRC:%.c=$(BUILD)/fuzz-obj/%.o)

$(BUILD)/fuzz-obj/%.o: %.c | $(PARAMS_DEF)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -Wall -Werror -MMD -MP -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -MF $@.d -o $@ $< $(FUZZ_OBJ) $(LDLIBS_ALL)

test-fuzz: $(FUZZ_BINS)
	@tools/run-fuzzers.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ_BINS)

# ---- integration tests: pytest with real clients ----
test-integration: build
	@tools/run-integration-tests.sh

test: deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-fuzz
	@$(MAKE) --no-print-directory test-integration

run: all
	@tools/run.sh

install: build
	@tools/install.sh "$(DESTDIR)" "$(PREFIX)" "$(SYSCONFDIR)" "$(BUILD)"

clean:
	rm -rf $(BUILD)

-include $(sort $(wildcard mk/*.mk))
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
