# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xdpha - one entry point: make, make test, make demo, make bench, make deps.
# Build output goes to build/; V=1 shows full commands.

.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

BUILD	?= build
CLANG	?= clang
CC	?= cc
BPFTOOL	?= bpftool
ARCH	:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_CFLAGS := -target bpf -O2 -g -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	-Wall -Wno-unused-function -Werror \
	-Iinclude -Ibpf -I$(BUILD)
CFLAGS	?= -O2 -g
CFLAGS	+= -Wall -Wextra -Werror -std=gnu11 -Iinclude -Iuser -I$(BUILD) \
	$(shell pkg-config --cflags json-c libnl-route-3.0 2>/dev/null)
# position-independent: the core objects also go into build/libxdpha.so
CFLAGS	+= -fPIC
LDLIBS	= -lbpf -lxdp -lelf -lz $(shell pkg-config --libs json-c libnl-route-3.0 libconfig libcrypto 2>/dev/null) -lpthread

HDRS	:= $(wildcard include/*.h)
BPF_HDRS := $(wildcard bpf/*.h) $(HDRS)
BPF_SRCS := $(wildcard bpf/*.bpf.c) $(wildcard bench/*.bpf.c) \
	$(wildcard selftests/progs/*.bpf.c)
BPF_OBJS := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS	:= $(BPF_OBJS:.bpf.o=.skel.h)

# user/ library: everything but main.c, shared by the tools and tests.
LIB_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
LIB_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(LIB_SRCS))
LIB	:= $(BUILD)/libxdpha-core.a

TP_SRCS	:= $(wildcard selftests/prog_tests/*.c)
UNIT_SRCS := $(wildcard selftests/unit/test_*.c)
UNIT_BINS := $(patsubst selftests/unit/%.c,$(BUILD)/selftests/unit/%,$(UNIT_SRCS))
BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard bench/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

vpath %.bpf.c bpf bench selftests/progs

.PHONY: all deps test demo bench clean help check-deps

all: check-deps $(BPF_OBJS) $(SKELS) $(LIB) $(BUILD)/xdpha $(BUILD)/selftests/test_progs \
	$(BUILD)/steer_rebuilt.bpf.o $(if $(wildcard selftests/tools/xh_traffic.c),$(BUILD)/xh-traffic) \
	$(UNIT_BINS) $(BENCH_BINS)

help:
	@echo 'make            build BPF objects, skeletons, tools and tests into $(BUILD)/'
	@echo 'make test       build and run every test; ends with "N passed, N failed"'
	@echo 'make demo       failures injected into a topology in namespaces, and a report'
	@echo 'make bench      run the benchmarks, write bench/results.json'
	@echo 'make deps       install missing Debian packages (root)'
	@echo 'make install    xdpha, libxdpha.so, xdpha.h and xdpha.pc under PREFIX (/usr/local)'
	@echo 'make clean      remove $(BUILD)/'
	@echo 'V=1             show full commands'

deps:
	$(Q)scripts/deps.sh -v

# Quick (one dpkg-query); installs only what is missing.
check-deps:
	$(Q)scripts/deps.sh

$(BUILD) $(BUILD)/user $(BUILD)/selftests $(BUILD)/selftests/unit $(BUILD)/bench:
	$(Q)mkdir -p $@

$(BUILD)/vmlinux.h: | $(BUILD)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(BUILD)/%.bpf.o: %.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/user/%.o: user/%.c $(HDRS) $(wildcard user/*.h) $(SKELS) | $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/selftests/tests.h: $(TP_SRCS) selftests/gen_tests_h.sh | $(BUILD)/selftests
	$(call msg,GEN,$@)
	$(Q)sh selftests/gen_tests_h.sh $@ $(TP_SRCS) && touch $@

$(BUILD)/selftests/test_progs: selftests/test_progs.c selftests/test_progs.h selftests/testlib.[ch] \
		$(TP_SRCS) $(BUILD)/selftests/tests.h $(SKELS) $(LIB) $(HDRS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -Iselftests -I$(BUILD)/selftests \
		selftests/test_progs.c selftests/testlib.c $(TP_SRCS) $(LIB) $(LDLIBS) -o $@

$(BUILD)/selftests/unit/%: selftests/unit/%.c $(LIB) $(HDRS) | $(BUILD)/selftests/unit
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB) $(LDLIBS) -lcmocka -o $@

$(BUILD)/bench/%: bench/%.c $(SKELS) $(LIB) $(HDRS) | $(BUILD)/bench
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB) $(LDLIBS) -lm -o $@

test: all
	$(Q)BUILD=$(BUILD) scripts/run-tests.sh

demo: all
	$(Q)BUILD=$(BUILD) scripts/demo.sh

bench: all
	$(Q)BUILD=$(BUILD) scripts/run-bench.sh

clean:
	$(Q)rm -rf $(BUILD)

$(BUILD)/xdpha: user/main.c $(LIB) $(HDRS) $(wildcard user/*.h)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB) $(LDLIBS) -o $@

# The same program built again with another build id: what the upgrade
# test replaces the running program with.
$(BUILD)/steer_rebuilt.bpf.o: bpf/steer.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DXH_BUILD_ID=2 -c $< -o $@

$(BUILD)/xh-traffic: selftests/tools/xh_traffic.c | $(BUILD)
	$(call msg,BINARY,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -std=gnu11 $< -lm -o $@

# The mirror transports' test and benchmark driver (links the library).
all: $(BUILD)/xh-xport-test
$(BUILD)/xh-xport-test: selftests/tools/xh_xport_test.c $(LIB) $(HDRS) $(wildcard user/*.h) | $(BUILD)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB) $(LDLIBS) -o $@

# libxdpha: the shared library a VNFC links (user/lib/xdpha.h), exporting
# only xdpha_* (user/lib/libxdpha.map); its pkg-config file; the example
# application and the test driver, linked against it as a VNFC would.
PREFIX	?= /usr/local
LIBDIR	?= $(PREFIX)/lib
XDPHA_SOVER := 0
XDPHA_SO := $(BUILD)/libxdpha.so.$(XDPHA_SOVER)
XDPHA_LIB_OBJS := $(patsubst user/lib/%.c,$(BUILD)/user/lib/%.o,$(wildcard user/lib/*.c))
XDPHA_LINK := -L$(BUILD) -lxdpha -Wl,-rpath,'$$ORIGIN'
all: $(BUILD)/libxdpha.so $(BUILD)/xdpha.pc $(BUILD)/xdpha-kv-counter $(BUILD)/xh-mirror-node
$(BUILD)/user/lib:
	$(Q)mkdir -p $@
$(BUILD)/user/lib/%.o: user/lib/%.c $(wildcard user/lib/*.h) $(HDRS) $(wildcard user/*.h) | $(BUILD)/user/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@
$(XDPHA_SO): $(XDPHA_LIB_OBJS) $(LIB) user/lib/libxdpha.map
	$(call msg,LIB,$@)
	$(Q)$(CC) -shared -Wl,-soname,libxdpha.so.$(XDPHA_SOVER) \
		-Wl,--version-script=user/lib/libxdpha.map -Wl,--as-needed \
		$(XDPHA_LIB_OBJS) $(LIB) $(LDLIBS) -o $@
$(BUILD)/libxdpha.so: $(XDPHA_SO)
	$(Q)ln -sf $(notdir $<) $@
# PREFIX is read again at install time (make install PREFIX=...)
define xdpha_pc
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' \
		'includedir=$${prefix}/include' '' 'Name: xdpha' \
		'Description: libxdpha, a VNFC'"'"'s state mirrored to its standby' \
		'Version: $(XDPHA_SOVER).1' 'Libs: -L$${libdir} -lxdpha' \
		'Cflags: -I$${includedir}' > $(1)
endef
$(BUILD)/xdpha.pc: Makefile | $(BUILD)
	$(call msg,GEN,$@)
	$(call xdpha_pc,$@)
$(BUILD)/xdpha-kv-counter: examples/kv_counter.c user/lib/xdpha.h $(BUILD)/libxdpha.so
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser/lib $< $(XDPHA_LINK) -o $@
$(BUILD)/xh-mirror-node: selftests/tools/xh_mirror_node.c user/lib/xdpha.h $(BUILD)/libxdpha.so
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) -Iuser/lib $< $(XDPHA_LINK) -o $@

.PHONY: install
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(PREFIX)/include
	install -m 755 $(BUILD)/xdpha $(DESTDIR)$(PREFIX)/bin/xdpha
	install -m 755 $(XDPHA_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(XDPHA_SO)) $(DESTDIR)$(LIBDIR)/libxdpha.so
	install -m 644 user/lib/xdpha.h $(DESTDIR)$(PREFIX)/include/xdpha.h
	$(call xdpha_pc,$(DESTDIR)$(LIBDIR)/pkgconfig/xdpha.pc)
