# Mica: build, boot and test.  `make help` lists the targets.
#
# Cross-building: CROSS_COMPILE=x86_64-linux-gnu- make (host gcc by default).

CROSS_COMPILE ?=
CC      := $(CROSS_COMPILE)gcc
LD      := $(CROSS_COMPILE)ld
NM      := $(CROSS_COMPILE)nm
OBJDUMP := $(CROSS_COMPILE)objdump
HOSTCC  ?= gcc
PYTHON  ?= /usr/bin/python3
QEMU    ?= qemu-system-x86_64

B := build
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
VERSION := $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)

# Boot-time settings for `make run`, `make pxe-run` and `make gdb` (`make
# help` lists them). NIC=e1000 or NIC=virtio-net-pci (a virtio 1.0 device:
# legacy interface off). MANIFEST is the boot manifest; NET=user is QEMU's
# user-mode network (restrict=on), NET=tap (make run and pxe-run, as root) a
# tap in a namespace NETNS (tools/tapnet.sh); QEMU_ARGS are added to QEMU's.
MEM      ?= 256M
NIC      ?= e1000
NIC_DEVICE = $(NIC)$(if $(filter virtio-net-pci,$(NIC)),$(comma)disable-legacy=on)
comma := ,
CMDLINE  ?= loglevel=2
MANIFEST ?= configs/boot.manifest
NET      ?= user
NETNS    ?= mica
QEMU_ARGS ?=
# make gdb: where QEMU's gdb stub and the serial console listen.
GDB_SOCKET     ?= $(B)/gdb.sock
CONSOLE_SOCKET ?= $(B)/console.sock
QEMU_MACHINE = -machine pc -cpu max -m $(MEM) -smp 1 -display none -no-reboot -nic none
QEMU_COMMON = $(QEMU_MACHINE) -serial mon:stdio
NET_USER = -netdev user,id=net0,restrict=on -device $(NIC_DEVICE),netdev=net0
NET_TAP  = -netdev tap,id=net0,ifname=tap0,script=no,downscript=no -device $(NIC_DEVICE),netdev=net0
# make pxe-run NET=tap: the NIC's MAC (QEMU's default, said aloud; it ends
# NET_TAP's -device), to which dnsmasq gives the appliance's address.
PXE_MAC  := 52:54:00:12:34:56
ifeq ($(filter e1000 virtio-net-pci,$(NIC)),)
$(error NIC=$(NIC): say NIC=e1000 or NIC=virtio-net-pci (the models the drivers drive))
endif
ifeq ($(filter user tap,$(NET)),)
$(error NET=$(NET): say NET=user (QEMU's user-mode network) or NET=tap (a tap in a namespace))
endif

WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes
KERNEL_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-mcmodel=kernel -mno-red-zone -mgeneral-regs-only -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) \
	-Ikernel -Ikernel/arch/x86_64 -Ilib -Iinclude \
	-DMICA_VERSION='"$(VERSION)"' -MMD -MP
KERNEL_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments \
	-T kernel/arch/x86_64/linker.ld

KERNEL_SRC := $(wildcard kernel/*.c kernel/arch/x86_64/*.c kernel/arch/x86_64/*.S) \
	lib/fmt.c lib/string.c lib/elf.c lib/ratelimit.c

# Two kernels from the same sources: the normal one, and the test build
# whose panics exit QEMU with a failure status (isa-debug-exit).
define kernel_variant
$(1)_OBJ := $$(patsubst %,$(B)/$(1)/%.o,$$(KERNEL_SRC))
$(B)/$(1)/%.c.o: %.c
	@mkdir -p $$(@D)
	@echo "  CC      $$@"
	$$(Q)$$(CC) $$(KERNEL_CFLAGS) $(2) -c $$< -o $$@
$(B)/$(1)/%.S.o: %.S
	@mkdir -p $$(@D)
	@echo "  AS      $$@"
	$$(Q)$$(CC) $$(KERNEL_CFLAGS) $(2) -c $$< -o $$@
$(B)/$(1).elf: $$($(1)_OBJ) kernel/arch/x86_64/linker.ld tools/check-fastpath-callers.sh
	$$(Q)sh tools/check-fastpath-callers.sh $$(NM) $(B)/$(1)/kernel/fastpath.c.o \
		$(B)/$(1)/kernel/arch/x86_64/switch.S.o $$($(1)_OBJ)
	@echo "  LD      $$@"
	$$(Q)$$(LD) $$(KERNEL_LDFLAGS) -Map=$(B)/$(1).ldmap -o $$@ $$($(1)_OBJ)
	$$(Q)$$(NM) -n $$@ > $(B)/$(1).map
	$$(Q)$$(OBJDUMP) -d -S $$@ > $(B)/$(1).dis
-include $$($(1)_OBJ:.o=.d)
endef
$(eval $(call kernel_variant,kernel,))
$(eval $(call kernel_variant,kernel-test,-DMICA_TEST))
# The IPC fast path without frame pointers: it never returns when it takes
# a call, and every instruction of its setup is paid by every fast call.
# Its entries are called only by switch.S's system call entry, which
# restores every register from the trap frame afterwards: so they need
# not preserve rbx and r12-r15 (GCC's -fcall-used-REG; rbp, which GCC
# will not take as call-used, is left unused: -ffixed-rbp), and save none.
# No C code may call a function of fastpath.c (fastpath.h): the kernel
# link rule runs tools/check-fastpath-callers.sh, which fails the build
# when an object other than switch.S's refers to one.
FASTPATH_CFLAGS := -fomit-frame-pointer -fcall-used-rbx -ffixed-rbp -fcall-used-r12 -fcall-used-r13 \
	-fcall-used-r14 -fcall-used-r15
$(B)/kernel/kernel/fastpath.c.o $(B)/kernel-test/kernel/fastpath.c.o: KERNEL_CFLAGS += $(FASTPATH_CFLAGS)

# User-level code: the runtime library and programs linked against it.
USER_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -Iinclude -MMD -MP
USER_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T lib/user/user.ld
LIBMICA_SRC := lib/fmt.c lib/string.c lib/elf.c lib/ratelimit.c lib/netq.c lib/inet.c lib/args.c lib/appliance_config.c lib/config_parser.c lib/firewall_config.c lib/firewall_rule.c lib/firewall_format.c lib/siphash.c lib/inet_csum.c lib/aspace.c lib/aspace_owned.c lib/aspace_fault.c lib/loader.c $(wildcard lib/user/*.c lib/user/*.S)
LIBMICA_SRC += lib/netq_csum.c lib/netq_gso.c lib/netq_merge.c lib/cpio.c
LIBMICA_OBJ := $(patsubst %,$(B)/user/%.o,$(LIBMICA_SRC))
KTEST_OBJ := $(patsubst %,$(B)/user/%.o,$(wildcard tests/kernel/*.c))
# The benchmark program reuses the kernel-test runner and child tasks.
BENCH_OBJ := $(patsubst %,$(B)/user/%.o,tests/kernel/ktest.c tests/kernel/child.c bench/ipc_bench.c)

$(B)/user/%.c.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(USER_CFLAGS) -Itests/kernel -c $< -o $@
$(B)/user/%.S.o: %.S
	@mkdir -p $(@D)
	@echo "  AS      $@"
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@
$(B)/libmica.a: $(LIBMICA_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(CROSS_COMPILE)ar rcs $@ $^
$(B)/ktest.elf: $(KTEST_OBJ) $(B)/libmica.a lib/user/user.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(USER_LDFLAGS) -o $@ $(KTEST_OBJ) $(B)/libmica.a
INIT_OBJ := $(patsubst %,$(B)/user/%.o,$(wildcard init/*.c))
$(B)/init.elf: $(INIT_OBJ) $(B)/libmica.a lib/user/user.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(USER_LDFLAGS) -o $@ $(INIT_OBJ) $(B)/libmica.a
# Small programs for init to start (tests and the default system).
PROGRAMS := $(patsubst tests/programs/%.c,%,$(wildcard tests/programs/*.c))
$(B)/programs/%.elf: $(B)/user/tests/programs/%.c.o $(B)/libmica.a lib/user/user.ld
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(LD) $(USER_LDFLAGS) -o $@ $< $(B)/libmica.a

# The appliance's programs: the serial console (its commands, its network
# half and the line editor).
APPLIANCE := console
CONSOLE_OBJ := $(patsubst %,$(B)/user/appliance/%.c.o,console console_net console_fw console_fault console_posix line_edit)
$(B)/appliance/console.elf: $(CONSOLE_OBJ) $(B)/libmica.a lib/user/user.ld
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(LD) $(USER_LDFLAGS) -o $@ $(CONSOLE_OBJ) $(B)/libmica.a

# NIC drivers: the common program (driver.c, with the injected faults in
# fault.c) and one hardware half each.
DRIVERS := e1000 virtio-net
DRIVER_COMMON := $(B)/user/drivers/net/driver.c.o $(B)/user/drivers/net/fault.c.o \
	$(B)/user/drivers/net/rx_merge.c.o $(B)/user/drivers/net/msix.c.o
$(B)/drivers/e1000.elf: $(DRIVER_COMMON) $(B)/user/drivers/net/e1000.c.o
$(B)/drivers/virtio-net.elf: $(DRIVER_COMMON) $(B)/user/drivers/net/virtio_net.c.o \
	$(B)/user/drivers/net/virtq_desc.c.o
$(B)/drivers/%.elf: $(B)/libmica.a lib/user/user.ld
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(LD) $(USER_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libmica.a
DRIVER_OBJ := $(patsubst %,$(B)/user/%.o,$(wildcard drivers/net/*.c))

# The netstack: lwIP from Debian's source package (tools/fetch-lwip.sh
# unpacks it into build/ and applies netstack/port/patches; nothing of it
# is committed) and the port.
LWIP_DIR := $(B)/third_party/lwip-2.1.3
LWIP_FILES := core/def.c core/inet_chksum.c core/init.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/stats.c core/sys.c core/tcp.c core/tcp_in.c core/tcp_out.c \
	core/timeouts.c core/udp.c core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c \
	core/ipv4/ip4.c core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c netif/ethernet.c
LWIP_OBJ := $(patsubst %,$(B)/lwip/%.o,$(LWIP_FILES))
LWIP_INC := -Inetstack/port/include -Inetstack/port -Inetstack -I$(LWIP_DIR)/src/include
# lwIP's own code is built without the project's warning set.
LWIP_CFLAGS := $(filter-out -Werror -Wshadow -Wstrict-prototypes -Wextra,$(USER_CFLAGS)) -w $(LWIP_INC)
LWIP_PATCHES := $(sort $(wildcard netstack/port/patches/*.patch))
# Which patches there are (a patch taken away must make the tree again too).
LWIP_PATCH_LIST := $(B)/third_party/lwip-patches.txt
$(LWIP_PATCH_LIST): FORCE
	@mkdir -p $(@D)
	@echo "$(LWIP_PATCHES)" | cmp -s - $@ || echo "$(LWIP_PATCHES)" > $@
$(LWIP_DIR)/.unpacked: tools/fetch-lwip.sh $(LWIP_PATCHES) $(LWIP_PATCH_LIST)
	tools/fetch-lwip.sh $(B)/third_party netstack/port/patches
	touch $@
$(patsubst %,$(LWIP_DIR)/src/%,$(LWIP_FILES)): $(LWIP_DIR)/.unpacked
	@test -f $@
$(B)/lwip/%.c.o: $(LWIP_DIR)/src/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(LWIP_CFLAGS) -c $< -o $@
NETSTACK_OBJ := $(patsubst %,$(B)/netstack/%.o,$(wildcard netstack/*.c))
$(B)/netstack/%.c.o: %.c $(LWIP_DIR)/.unpacked
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(USER_CFLAGS) $(LWIP_INC) -c $< -o $@
$(B)/netstack.elf: $(NETSTACK_OBJ) $(LWIP_OBJ) $(B)/libmica.a lib/user/user.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(USER_LDFLAGS) --wrap=icmp_dest_unreach --wrap=icmp_time_exceeded \
		--wrap=ip4_reass --wrap=sys_timeouts_init --wrap=tcp_timer_needed --wrap=memp_free --wrap=pbuf_alloc -o $@ \
		$(NETSTACK_OBJ) $(LWIP_OBJ) $(B)/libmica.a

# The POSIX server (docs/posix.md): its Linux system-call table comes
# from the host's <asm/unistd_64.h>; the Linux programs it runs are built
# from tests/posix/ as posix-server/programs.list names them.
POSIX_OBJ := $(patsubst %,$(B)/user/%.o,$(wildcard posix-server/*.c))
LINUX_UNISTD := /usr/include/x86_64-linux-gnu/asm/unistd_64.h
$(B)/posix-server/linux_syscalls.h: $(LINUX_UNISTD) tools/linux-syscalls.sh
	@mkdir -p $(@D)
	$(Q)tools/linux-syscalls.sh $(LINUX_UNISTD) > $@
$(POSIX_OBJ): $(B)/posix-server/linux_syscalls.h
# (No floating point in the server's own code: general registers, fewer
# instructions on every call's path. libmica's memcpy, built with SSE,
# uses the SSE registers where QEMU's TLB would make it slow: lib/string.c.)
$(POSIX_OBJ): USER_CFLAGS += -I$(B)/posix-server -mgeneral-regs-only
# The vDSO the server maps into every process (posix-server/vdso/): a
# shared object without relocations or writable data, built into the
# server's image (vdso_image.S).
VDSO_CFLAGS := -std=gnu11 -O2 $(WARN) -fPIC -ffreestanding -fno-stack-protector \
	-fno-asynchronous-unwind-tables -nostdinc -isystem $(shell $(CC) -print-file-name=include) \
	-Iinclude -Iposix-server
VDSO_LDFLAGS := -shared -nostdlib -Wl,-T,posix-server/vdso/vdso.lds \
	-Wl,--version-script=posix-server/vdso/vdso.map -Wl,--hash-style=both \
	-Wl,-soname=linux-vdso.so.1 -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,--no-undefined
$(B)/posix-server/vdso.so: posix-server/vdso/vdso.c posix-server/vdso/vdso_data.h \
		posix-server/vdso/vdso.lds posix-server/vdso/vdso.map include/uapi/clock.h
	@mkdir -p $(@D)
	@echo "  VDSO    $@"
	$(Q)$(CC) $(VDSO_CFLAGS) $(VDSO_LDFLAGS) -o $@ posix-server/vdso/vdso.c
	$(Q)if $(CROSS_COMPILE)readelf -rW $@ | grep -q R_X86_64; then \
		echo "$@: the vDSO has relocations"; rm -f $@; exit 1; fi
	$(Q)if [ "$$($(CROSS_COMPILE)readelf -lW $@ | grep -c ' LOAD ')" != 1 ] || \
		$(CROSS_COMPILE)readelf -lW $@ | grep ' LOAD ' | grep -q 'RW'; then \
		echo "$@: the vDSO must be one read-only PT_LOAD"; rm -f $@; exit 1; fi
POSIX_OBJ += $(B)/user/posix-server/vdso/vdso_image.S.o
$(B)/user/posix-server/vdso/vdso_image.S.o: $(B)/posix-server/vdso.so
$(B)/user/posix-server/vdso/vdso_image.S.o: USER_CFLAGS += -DVDSO_FILE='"$(B)/posix-server/vdso.so"'
$(B)/posix-server.elf: $(POSIX_OBJ) $(B)/libmica.a lib/user/user.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(USER_LDFLAGS) -o $@ $(POSIX_OBJ) $(B)/libmica.a
# programs.list: NAME-musl, NAME-glibc, NAME-glibc-pie, NAME-dyn built
# from tests/posix/NAME.c; PACKAGE:PATH a file of a Debian binary package,
# as shipped (apt-get download, unpacked into $(B)/posix/debs/PACKAGE).
POSIX_LIST := $(shell sed -e 's/\#.*//' posix-server/programs.list)
POSIX_PROGRAMS := $(foreach w,$(POSIX_LIST),$(if $(findstring :,$(w)),,$(w)))
POSIX_DEB_FILES := $(foreach w,$(POSIX_LIST),$(if $(findstring :,$(w)),$(w)))
# A name of the list that no rule builds (no tests/posix/NAME.c, or no
# suffix): said before anything is built, not as make's "No rule to make
# target".
posix_source = tests/posix/$(patsubst %-musl,%,$(patsubst %-glibc,%,$(patsubst %-glibc-pie,%,$(patsubst %-dyn,%,$(1))))).c
POSIX_UNBUILDABLE := $(strip $(foreach p,$(POSIX_PROGRAMS),$(if $(and $(filter %-musl %-glibc %-glibc-pie %-dyn,$(p)),$(wildcard $(call posix_source,$(p)))),,$(p))))
.PHONY: posix-list-check
posix-list-check:
	@bad="$(POSIX_UNBUILDABLE)"; for p in $$bad; do echo "posix-server/programs.list: $$p: nothing builds it: NAME-musl, NAME-glibc, NAME-glibc-pie and NAME-dyn are built from tests/posix/NAME.c, a Debian program's file is PACKAGE:PATH, a prebuilt program goes into posix-server/rootfs/ (docs/posix.md)" >&2; done; test -z "$$bad"
POSIX_DEBS := $(sort $(foreach f,$(POSIX_DEB_FILES),$(firstword $(subst :, ,$(f)))))
POSIX_CFLAGS := -static -O2 -Wall -Wextra -Werror
# musl-gcc sees only musl's headers: the kernel's <linux/...>, <asm/...>
# and <asm-generic/...> (linux-libc-dev) after them, for the tests that use
# the kernel's own definitions — through a directory that holds only those
# three, so no glibc header can stand in for one musl lacks.
POSIX_TEST_HEADERS := $(wildcard tests/posix/*.h)
MUSL_KERNEL_HEADERS := $(B)/posix/kernel-headers
MUSL_LINUX_HEADERS := -idirafter $(MUSL_KERNEL_HEADERS)
$(MUSL_KERNEL_HEADERS):
	@mkdir -p $@
	$(Q)ln -sfn /usr/include/linux $@/linux
	$(Q)ln -sfn /usr/include/asm-generic $@/asm-generic
	$(Q)ln -sfn /usr/include/$(shell $(HOSTCC) -print-multiarch)/asm $@/asm
$(B)/posix/%-musl: tests/posix/%.c $(POSIX_TEST_HEADERS) | $(MUSL_KERNEL_HEADERS)
	@mkdir -p $(@D)
	@echo "  MUSL    $@"
	$(Q)musl-gcc $(POSIX_CFLAGS) $(MUSL_LINUX_HEADERS) -o $@ $<
$(B)/posix/%-glibc: tests/posix/%.c $(POSIX_TEST_HEADERS)
	@mkdir -p $(@D)
	@echo "  GLIBC   $@"
	$(Q)$(HOSTCC) $(POSIX_CFLAGS) -o $@ $<
$(B)/posix/%-glibc-pie: tests/posix/%.c $(POSIX_TEST_HEADERS)
	@mkdir -p $(@D)
	@echo "  GLIBC   $@ (static PIE)"
	$(Q)$(HOSTCC) $(subst -static,-static-pie,$(POSIX_CFLAGS)) -o $@ $<
$(B)/posix/%-dyn: tests/posix/%.c $(POSIX_TEST_HEADERS)
	@mkdir -p $(@D)
	@echo "  GLIBC   $@ (dynamically linked)"
	$(Q)$(HOSTCC) $(filter-out -static,$(POSIX_CFLAGS)) -o $@ $<
# A Debian binary package unpacked as shipped (the version apt has).
$(B)/posix/debs/%/.unpacked:
	@echo "  DEB     $*"
	$(Q)rm -rf $(B)/posix/debs/$* $(B)/posix/debs/$*.dl && mkdir -p $(B)/posix/debs/$*.dl
	$(Q)cd $(B)/posix/debs/$*.dl && { apt-get -q download $* 2>&1 | \
		grep -v '^W: Download is performed unsandboxed'; ls *.deb > /dev/null; }
	$(Q)dpkg-deb -x $(B)/posix/debs/$*.dl/*.deb $(B)/posix/debs/$*
	$(Q)rm -rf $(B)/posix/debs/$*.dl && touch $@
# The root filesystem: the tree posix-server/rootfs/ (/etc, the link
# /bin/sh to busybox: its directories are prerequisites too, as a link to
# a file not yet there cannot be one), the built
# programs in /bin and the packages' files at their paths, in a cpio
# archive (newc), the boot module `rootfs`.
$(B)/posix/rootfs.cpio: $(patsubst %,$(B)/posix/%,$(filter-out $(POSIX_UNBUILDABLE),$(POSIX_PROGRAMS))) \
		$(patsubst %,$(B)/posix/debs/%/.unpacked,$(POSIX_DEBS)) posix-server/programs.list \
		tools/rootfs-debs.py $(shell find posix-server/rootfs -type f -o -type d) | posix-list-check
	@echo "  CPIO    $@"
	$(Q)rm -rf $(B)/posix/root && mkdir -p $(B)/posix/root/bin
	$(Q)cp -R posix-server/rootfs/. $(B)/posix/root/
	$(Q)cp $(patsubst %,$(B)/posix/%,$(POSIX_PROGRAMS)) $(B)/posix/root/bin/
	$(Q)$(PYTHON) tools/rootfs-debs.py $(B)/posix/debs $(B)/posix/root $(POSIX_DEB_FILES)
	$(Q)cd $(B)/posix/root && find . -mindepth 1 | LC_ALL=C sort | \
		cpio -o -H newc -R 0:0 --reproducible --quiet > ../rootfs.cpio

$(B)/ipcbench.elf: $(BENCH_OBJ) $(B)/libmica.a lib/user/user.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(USER_LDFLAGS) -o $@ $(BENCH_OBJ) $(B)/libmica.a
-include $(LIBMICA_OBJ:.o=.d) $(KTEST_OBJ:.o=.d) $(BENCH_OBJ:.o=.d) $(INIT_OBJ:.o=.d) $(DRIVER_OBJ:.o=.d) $(CONSOLE_OBJ:.o=.d)
-include $(LWIP_OBJ:.o=.d) $(NETSTACK_OBJ:.o=.d) $(POSIX_OBJ:.o=.d)

# Boot modules. The loader (GRUB, iPXE, QEMU) loads three, in this order:
# init (the root task), the manifest, and the bundle: one cpio archive of
# all the other modules (tools/mkbundle.c; docs/boot.md), which init reads
# as modules of their own. So the image holds any number of programs and
# files while iPXE's multiboot loader, which takes at most 8 modules, gets
# three. Both lists are `file:name` pairs.
# The POSIX server and its root filesystem (20 MiB, with the test programs)
# go in when the manifest starts the server (the default one does).
POSIX_IN_MANIFEST := $(shell grep -qs '^program posix-server' "$(MANIFEST)" && echo yes)
# The files the manifest hands its programs (`file NAME`), from configs/.
MANIFEST_FILES := $(shell sed -n 's/^[[:space:]]*file[[:space:]]\+\([^[:space:]#]*\).*/\1/p' "$(MANIFEST)" 2>/dev/null)
BUNDLE := $(B)/drivers/e1000.elf:e1000 $(B)/drivers/virtio-net.elf:virtio-net \
	$(B)/programs/reflector.elf:reflector $(B)/netstack.elf:netstack \
	$(B)/appliance/console.elf:console \
	$(if $(POSIX_IN_MANIFEST),$(B)/posix-server.elf:posix-server $(B)/posix/rootfs.cpio:rootfs) \
	$(foreach f,$(MANIFEST_FILES),$(if $(wildcard configs/$(f)),configs/$(f):$(f)))
MODULES := $(B)/init.elf:init $(B)/boot.manifest:manifest $(B)/bundle:bundle
# Every module name init will find: the manifest is checked against them.
MODULE_NAMES := $(foreach m,$(MODULES) $(BUNDLE),$(lastword $(subst :, ,$(m))))
module_files = $(foreach m,$(1),$(firstword $(subst :, ,$(m))))

# The bundle, made again when a module in it changes or the list does.
BUNDLE_LIST := $(B)/bundle.list
$(BUNDLE_LIST): FORCE
	@mkdir -p $(@D)
	@echo "$(BUNDLE)" | cmp -s - $@ || echo "$(BUNDLE)" > $@
$(B)/bundle: $(B)/host/mkbundle $(BUNDLE_LIST) $(call module_files,$(BUNDLE))
	@echo "  BUNDLE  $@"
	$(Q)$(B)/host/mkbundle $@ $(BUNDLE)
$(B)/host/mkbundle: tools/mkbundle.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) -std=gnu11 -O1 $(WARN) -o $@ $<

.PHONY: all kernel iso tftp run pxe-run router-demo gdb test unit-test check-config system-test ktest soak soak-kernel soak-packets soak-send soak-arp bench deps clean help FORCE
all: kernel iso tftp $(B)/ktest.elf $(B)/init.elf $(patsubst %,$(B)/programs/%.elf,$(PROGRAMS)) \
	$(patsubst %,$(B)/drivers/%.elf,$(DRIVERS)) $(B)/netstack.elf \
	$(patsubst %,$(B)/appliance/%.elf,$(APPLIANCE)) $(B)/posix-server.elf \
	$(B)/posix/rootfs.cpio
kernel: $(B)/kernel.elf $(B)/kernel-test.elf

# The manifest booted: MANIFEST as it is, or with NET=tap the netstack's
# DHCP address made the static one on the tap (TAP_STATIC; make pxe-run
# NET=tap, whose tap has a DHCP server, clears it). Rewritten only when its
# text changes, so the ISO and the TFTP tree are rebuilt exactly when
# another manifest is chosen.
# It is checked first with init's own parser on the host
# (tools/manifest-check.c), its `lookup` lines against the names its
# programs register, and the boot modules it names against
# MODULE_NAMES (the loader's and the bundle's): a bad one fails here as
# FILE:LINE: what is wrong, and leaves nothing behind.
TAP_STATIC ?= $(filter tap,$(NET))
MANIFEST_CMD = $(if $(TAP_STATIC),tools/tapnet.sh manifest,cat) "$(MANIFEST)"
$(B)/boot.manifest: $(B)/host/manifest-check FORCE
	@mkdir -p $(@D)
	$(Q)[ -r "$(MANIFEST)" ] || { echo "make: MANIFEST=$(MANIFEST): no such file" >&2; exit 1; }
	$(Q)$(MANIFEST_CMD) > $@.new || { rm -f $@.new; exit 1; }
	$(Q)$(B)/host/manifest-check $@.new "$(MANIFEST)" $(MODULE_NAMES) \
		|| { rm -f $@.new; exit 1; }
	$(Q)if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; \
		echo "  MANIFEST $@ from $(MANIFEST)$(if $(TAP_STATIC), for NET=tap)"; fi
FORCE:

$(B)/host/manifest-check: tools/manifest-check.c init/manifest.c init/manifest.h lib/fmt.c lib/args.c
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) -std=gnu11 -O1 $(WARN) -Iinclude -Iinit -o $@ tools/manifest-check.c \
		init/manifest.c lib/fmt.c lib/args.c

# The kernel command line (CMDLINE=) as a file, rewritten only when it
# changes, so that grub.cfg and boot.ipxe are made again exactly then.
$(B)/cmdline: FORCE
	@mkdir -p $(@D)
	@printf "%s\n" "$(CMDLINE)" | cmp -s - $@ || printf "%s\n" "$(CMDLINE)" > $@

$(B)/iso/boot/grub/grub.cfg: Makefile tools/mkgrubcfg.sh $(B)/boot.manifest $(B)/cmdline
	@mkdir -p $(@D)
	tools/mkgrubcfg.sh "$(CMDLINE)" $(MODULES) > $@

# The ISO's /boot and the TFTP tree hold exactly the kernel and the
# current MODULES: what an earlier manifest added goes first.
$(B)/mica.iso: $(B)/kernel.elf $(B)/iso/boot/grub/grub.cfg $(call module_files,$(MODULES))
	find $(B)/iso/boot -maxdepth 1 -type f -delete
	cp $(B)/kernel.elf $(B)/iso/boot/kernel
	for m in $(MODULES); do cp $${m%%:*} $(B)/iso/boot/$${m##*:}; done
	grub-mkrescue -o $@ $(B)/iso 2> $(B)/grub-mkrescue.log || { cat $(B)/grub-mkrescue.log; exit 1; }
iso: $(B)/mica.iso

# The network-boot tree: what a TFTP server serves for iPXE.
$(B)/tftp/boot.ipxe: $(B)/kernel.elf $(call module_files,$(MODULES)) tools/mkipxe.sh Makefile \
		$(B)/cmdline
	rm -rf $(B)/tftp && mkdir -p $(@D)
	cp $(B)/kernel.elf $(B)/tftp/kernel
	for m in $(MODULES); do cp $${m%%:*} $(B)/tftp/$${m##*:}; done
	tools/mkipxe.sh "$(CMDLINE)" $(MODULES) > $@
tftp: $(B)/tftp/boot.ipxe

deps:
	tools/install-deps.sh all

# NET=tap is not for make gdb: its stub and console listen outside any
# namespace.
user_net_only = $(if $(filter tap,$(NET)),@echo "make $@: NET=tap is for make run and make pxe-run; use NET=user" >&2; exit 2)

# make run and make pxe-run on QEMU's user network: say that the host
# cannot reach the appliance there, and how to.
user_net_note = @echo "Mica: the NIC is on QEMU's user-mode network (restrict=on), which nothing on the host reaches; to ping it or run iperf3 -c against it, boot it on a tap: sudo make $@ NET=tap (README.md)"

run:
	tools/install-deps.sh $(if $(filter tap,$(NET)),test,run)
	$(MAKE) iso
ifeq ($(NET),tap)
	@echo "Mica: booting $(B)/mica.iso in QEMU (TCG), $(NIC) on a tap in namespace $(NETNS). Quit with Ctrl-A then X."
	TAPNET_MANIFEST=$(B)/boot.manifest tools/tapnet.sh run $(NETNS) $(QEMU) $(QEMU_COMMON) -cdrom $(B)/mica.iso -boot d $(NET_TAP) $(QEMU_ARGS)
else
	@echo "Mica: booting $(B)/mica.iso in QEMU (TCG). Quit with Ctrl-A then X."
	$(user_net_note)
	$(QEMU) $(QEMU_COMMON) -cdrom $(B)/mica.iso -boot d $(NET_USER) $(QEMU_ARGS)
endif

# Network boot through QEMU's iPXE ROM: from QEMU's built-in DHCP/TFTP
# server, or with NET=tap from dnsmasq in the namespace (tools/tapnet.sh
# pxe), which also gives the appliance its address.
pxe-run:
	tools/install-deps.sh $(if $(filter tap,$(NET)),test,run)
	$(MAKE) tftp TAP_STATIC=
ifeq ($(NET),tap)
	@echo "Mica: PXE-booting with $(NIC) from dnsmasq in namespace $(NETNS), serving $(B)/tftp. Quit with Ctrl-A then X."
	tools/tapnet.sh pxe $(NETNS) $(B)/tftp $(PXE_MAC) $(QEMU) $(QEMU_COMMON) -boot order=n \
		$(NET_TAP),mac=$(PXE_MAC) $(QEMU_ARGS)
else
	@echo "Mica: PXE-booting with $(NIC) from $(B)/tftp. Quit with Ctrl-A then X."
	$(user_net_note)
	$(QEMU) $(QEMU_COMMON) -boot order=n \
		-netdev user,id=net0,restrict=on,tftp=$(B)/tftp,bootfile=boot.ipxe \
		-device $(NIC_DEVICE),netdev=net0 $(QEMU_ARGS)
endif

# Mica as a router between a LAN host and a WAN host (as root): the tree
# for configs/router.manifest, network-booted by iPXE from dnsmasq in the
# LAN host's namespace (the LAN NIC, an e1000 at 00:03.0, boots first:
# bootindex), the WAN NIC a virtio-net at 00:04.0 (tools/tapnet.sh router).
ROUTER_MANIFEST ?= configs/router.manifest
ROUTER_LAN_MAC := 52:54:00:12:34:56
ROUTER_WAN_MAC := 52:54:00:12:34:57
router-demo:
	tools/install-deps.sh test
	$(MAKE) tftp TAP_STATIC= MANIFEST=$(ROUTER_MANIFEST)
	@echo "Mica: PXE-booting the router from dnsmasq in namespace $(NETNS)-lan, serving $(B)/tftp. Quit with Ctrl-A then X."
	tools/tapnet.sh router $(NETNS) $(B)/tftp $(ROUTER_LAN_MAC) $(ROUTER_WAN_MAC) \
		$(QEMU) $(QEMU_COMMON) \
		-netdev tap,id=lan,ifname=tap0,script=no,downscript=no \
		-device e1000,netdev=lan,mac=$(ROUTER_LAN_MAC),addr=3,bootindex=1 \
		-netdev tap,id=wan,ifname=tap1,script=no,downscript=no \
		-device virtio-net-pci,disable-legacy=on,netdev=wan,mac=$(ROUTER_WAN_MAC),addr=4 $(QEMU_ARGS)

# QEMU in a session of its own (Ctrl-C is gdb's), its serial console and
# gdb stub on Unix sockets; gdb with tools/gdbinit (tools/gdb-run.sh).
gdb:
	$(user_net_only)
	tools/install-deps.sh test
	$(MAKE) iso
	tools/gdb-run.sh $(B)/kernel.elf $(GDB_SOCKET) $(CONSOLE_SOCKET) \
		$(QEMU) $(QEMU_MACHINE) -cdrom $(B)/mica.iso -boot d $(NET_USER) $(QEMU_ARGS)

# Host unit tests of pure logic.
UNIT_SRC := $(wildcard tests/unit/*.c) kernel/boot_memmap.c kernel/frame_allocator.c kernel/cmdline.c lib/fmt.c \
	lib/aspace.c lib/aspace_owned.c lib/aspace_fault.c lib/loader.c \
	lib/elf.c lib/netq.c lib/inet.c lib/args.c lib/ratelimit.c lib/appliance_config.c lib/config_parser.c init/manifest.c netstack/config.c netstack/route.c netstack/idgen.c netstack/ip4_options.c netstack/dhcp_reply.c \
	lib/inet_csum.c lib/siphash.c lib/firewall_config.c lib/firewall_rule.c lib/firewall_format.c netstack/conntrack.c netstack/conntrack_tcp.c netstack/conntrack_format.c netstack/firewall.c netstack/firewall_index.c netstack/nat.c netstack/packet_meta.c netstack/filter_clock.c \
	appliance/line_edit.c posix-server/exec_stack.c posix-server/vfs.c posix-server/vfs_change.c posix-server/tmpfs.c \
	posix-server/runlist_parse.c posix-server/netlink_route.c \
	posix-server/ldisc.c posix-server/rtc_date.c
UNIT_SRC += lib/netq_csum.c lib/netq_gso.c lib/netq_merge.c lib/cpio.c drivers/net/virtq_desc.c netstack/heap.c
$(B)/unit/run-unit-tests: $(UNIT_SRC) lib/string.c $(wildcard tests/unit/*.h tests/unit/*.inc kernel/*.h include/lib/*.h lib/*.h netstack/*.h init/*.h appliance/*.h posix-server/*.h drivers/net/*.h)
	@mkdir -p $(@D)
	$(HOSTCC) -std=gnu11 -O1 -g $(WARN) -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-iquote kernel -Iinclude -Iinit -Inetstack -Iappliance -Iposix-server -Idrivers/net -Itests/unit -o $@ $(UNIT_SRC) -lpthread

# The appliance configuration checker (tools/check-config.c): the
# appliance's own parser, built for the host.
CHECK_CONFIG_SRC := tools/check-config.c lib/appliance_config.c lib/config_parser.c lib/firewall_config.c \
	lib/firewall_rule.c lib/inet.c lib/fmt.c
$(B)/host/check-config: $(CHECK_CONFIG_SRC) $(wildcard include/lib/*.h lib/*.h)
	@mkdir -p $(@D)
	$(HOSTCC) -std=gnu11 -O1 -g $(WARN) -Iinclude -o $@ $(CHECK_CONFIG_SRC)

check-config: $(B)/host/check-config
	$(B)/host/check-config $(or $(CONFIG),$(wildcard configs/*.conf))

unit-test: $(B)/unit/run-unit-tests
	$(B)/unit/run-unit-tests $(T)

# Kernel tests: the ktest program as root task of the test kernel, with
# the kernel command line $(1), stopped after $(2) seconds (0: never);
# QEMU's exit status 33 is a pass (35: a test failed or the ktest thread
# faulted, kernel/root.c). The whole suite takes well under a minute.
KTEST_TIMEOUT ?= 300
define run_ktest
	timeout --foreground $(2) $(QEMU) -machine pc -cpu max -m $(MEM) -display none -monitor none \
		-serial stdio -nic none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel $(B)/kernel-test.elf -append "root=ktest $(1)" \
		-initrd "$(B)/ktest.elf ktest"; \
	status=$$?; [ $$status -ne 124 ] || { echo "ktest: FAIL: no result within $(2) s (KTEST_TIMEOUT)"; exit 1; }; \
	[ $$status -eq 33 ] || { echo "ktest: FAIL: QEMU exit status $$status"; exit 1; }
endef

# T=name[,name...] runs only those.
ktest: $(B)/kernel-test.elf $(B)/ktest.elf
	$(call run_ktest,$(if $(T),ktest=$(T)),$(KTEST_TIMEOUT))

# Soak tests (never part of `make test`): the kernel's system-call fuzzer
# with 10^7 calls from seed FUZZ_SEED, with the IPC fast path and without;
# the packet fuzzer (tests/system/test_fuzz.py) with FUZZ_FRAMES frames per
# NIC model from the same seed (as root).
FUZZ_SEED ?= 1
FUZZ_FRAMES ?= 200000
soak: soak-kernel soak-packets soak-send soak-arp
# The netstack's own TCP sender, merged segments over virtio-net: SEND_RUNS
# short transfers, each on a fresh boot (as root; docs/netstack.md).
SEND_RUNS ?= 100
soak-send: kernel iso tftp
	MICA_SOAK_SEND_RUNS=$(SEND_RUNS) $(PYTHON) -m pytest -q -s tests/system/test_tso.py -k sends_soak
# lwIP's ARP refresh (at 270 s) of a next hop while aggregates are
# forwarded to it: five to ten minutes of traffic through the router (as root).
soak-arp: kernel iso tftp
	MICA_SOAK=1 $(PYTHON) -m pytest -q tests/system/test_tso.py -k arp_refresh
soak-packets: kernel iso tftp
	MICA_FUZZ_SEED=$(FUZZ_SEED) MICA_FUZZ_FRAMES=$(FUZZ_FRAMES) \
		$(PYTHON) -m pytest -q tests/system/test_fuzz.py
soak-kernel: $(B)/kernel-test.elf $(B)/ktest.elf
	$(call run_ktest,ktest=syscall_fuzzer fuzzcalls=10000000 fuzzseed=$(FUZZ_SEED),0)
	$(call run_ktest,ktest=syscall_fuzzer fuzzcalls=10000000 fuzzseed=$(FUZZ_SEED) nofastpath,0)

# Benchmarks (never part of `make test`): IPC and mapping costs in guest
# instructions (QEMU -icount) and TSC ticks, fast path on and off; frames
# through the reflector; iperf TCP throughput beside a reference Linux
# guest, and a sampled profile of where Mica's transfers spend the time;
# driver restart outage; forwarding through the router beside a
# Linux router; the firewall through the router beside Linux with nftables
# (firewall: not run by default); POSIX system calls beside the Linux
# guest; Debian's iperf3 on the POSIX server beside the same iperf3 on the
# Linux guest. BENCH names the parts to run (ipc nic net profile outage router
# firewall posix iperf3); bench/report.py then writes
# docs/benchmarks.md, its plots and bench/results.json, keeping the parts
# not run, and prints what moved.
# Never fails on what a benchmark measured.
BENCH ?= ipc nic net profile outage router posix iperf3
bench: $(B)/kernel-test.elf $(B)/ipcbench.elf all
	tools/install-deps.sh bench
	$(PYTHON) bench/report.py --start
	$(Q)for b in $(BENCH); do \
		case $$b in ipc|nic|net|profile|outage|router|firewall|posix|iperf3) ;; *) echo "make bench: no benchmark '$$b' (ipc nic net profile outage router firewall posix iperf3)"; exit 2;; esac; \
		echo "== bench/run_$$b.py"; \
		$(PYTHON) bench/run_$$b.py || echo "make bench: bench/run_$$b.py exited with status $$? (reported, not fatal)"; \
	done
	$(PYTHON) bench/report.py $(BENCH)

# Boot tests in QEMU; T=name selects tests (pytest -k).
system-test: kernel iso tftp
	$(PYTHON) -m pytest -q tests/system $(if $(T),-k "$(T)")

test:
	tools/install-deps.sh test
	$(MAKE) all $(B)/unit/run-unit-tests
	tools/run-tests.sh

clean:
	rm -rf $(B)

help:
	@echo "Targets:"
	@echo "  make, make all    build everything: kernels, programs, ISO, TFTP tree"
	@echo "  make run          build the ISO and boot it in QEMU; the serial console is this terminal"
	@echo "  make run NET=tap  the same with the NIC on a tap in a namespace (as root): ping and iperf it"
	@echo "  make pxe-run      network-boot through QEMU's iPXE ROM and built-in TFTP server"
	@echo "  make pxe-run NET=tap  network-boot from dnsmasq (DHCP, TFTP) in a namespace (as root)"
	@echo "  make router-demo  Mica as a router between a LAN and a WAN host, PXE-booted from dnsmasq (as root)"
	@echo "  make gdb          boot with gdb attached (run to kmain); the console on a Unix socket"
	@echo "  make test         unit tests, then system tests; ends with \"make test: N passed, N failed\""
	@echo "  make unit-test    host unit tests only (T=name for some)"
	@echo "  make system-test  QEMU boot tests only (T=expr: a pytest -k expression)"
	@echo "  make ktest        the kernel tests alone (T=name,name for some; KTEST_TIMEOUT=300 s)"
	@echo "  make soak         long fuzzing runs: 10^7 system calls from a hostile task, 200000 fuzzed"
	@echo "                    frames per NIC model (FUZZ_SEED=1, FUZZ_FRAMES=200000; as root),"
	@echo "                    100 short sends of the netstack's own (soak-send, SEND_RUNS=100), and"
	@echo "                    five minutes through the router for lwIP's ARP refresh (soak-arp)"
	@echo "  make bench        benchmarks: IPC, frames/s, iperf, restart outage, POSIX calls, Debian's"
	@echo "                    iperf3 on the POSIX server beside Linux's; writes docs/benchmarks.md"
	@echo "                    (BENCH='ipc nic net outage': the parts to run, the others kept;"
	@echo "                    BENCH=firewall: the firewall through the router beside nftables)"
	@echo "  make kernel       kernel.elf, kernel-test.elf, symbol maps and disassembly"
	@echo "  make iso          the GRUB ISO, build/mica.iso"
	@echo "  make tftp         the network-boot tree, build/tftp/"
	@echo "  make check-config check appliance configurations (CONFIG=FILE; default configs/*.conf)"
	@echo "  make deps         install the Debian packages everything needs"
	@echo "  make clean        remove build/"
	@echo "  make help         this list"
	@echo "Variables (run, pxe-run, gdb):"
	@echo "  MANIFEST=FILE     the boot manifest (default configs/boot.manifest)"
	@echo "  QEMU_ARGS='...'   more QEMU arguments (a second NIC, -s, ...)"
	@echo "  NIC=e1000|virtio-net-pci  the NIC model (default e1000)"
	@echo "  MEM=256M          guest memory; CMDLINE='loglevel=2' the kernel command line"
	@echo "  NET=user|tap      run, pxe-run: QEMU's user network (restrict=on; default) or a tap"
	@echo "  NETNS=mica        NET=tap: the namespace's name (it must not exist)"
	@echo "  GDB_SOCKET=$(B)/gdb.sock CONSOLE_SOCKET=$(B)/console.sock  gdb: where they listen"
	@echo "Build: CROSS_COMPILE=x86_64-linux-gnu- (cross toolchain), V=1 (full command lines)"
