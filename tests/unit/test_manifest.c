#include <string.h>

#include "manifest.h"
#include "unit.h"

static struct manifest m;
static char err[160];

static unsigned parse(const char *text)
{
	return manifest_parse(text, strlen(text), &m, err, sizeof(err));
}

TEST(manifest_full_program)
{
	CHECK_EQ(parse("# a comment\n"
		       "program e1000 priority=150 quota=2048 restart=on-crash retries=5\n"
		       "    module e1000drv   # trailing comment\n"
		       "    ioports 0xc000-0xc03f\n"
		       "    irq 11\n"
		       "    mmio febc0000 20000\n"
		       "    args mac=52:54:00:12:34:56 debug\n"
		       "\n"
		       "program netstack\n"), 0);
	CHECK_EQ(m.nprograms, 2);
	const struct manifest_program *p = &m.programs[0];
	CHECK(!strcmp(p->name, "e1000"));
	CHECK(!strcmp(p->module, "e1000drv"));
	CHECK_EQ(p->priority, 150);
	CHECK_EQ(p->quota, 2048 * 1024);
	CHECK_EQ(p->restart, RESTART_ON_CRASH);
	CHECK_EQ(p->retries, 5);
	CHECK_EQ(p->ioport_first, 0xc000);
	CHECK_EQ(p->ioport_count, 0x40);
	CHECK_EQ(p->nirqs, 1);
	CHECK_EQ(p->irqs[0], 11);
	CHECK_EQ(p->mmio_base[0], 0xfebc0000);
	CHECK_EQ(p->mmio_size[0], 0x20000);
	CHECK(!strcmp(p->args, "mac=52:54:00:12:34:56 debug"));
	CHECK_EQ(p->line, 2);
	/* Defaults. */
	CHECK(!strcmp(m.programs[1].module, "netstack"));
	CHECK_EQ(m.programs[1].priority, 100);
	CHECK_EQ(m.programs[1].quota, 1 << 20);
	CHECK_EQ(m.programs[1].restart, RESTART_NEVER);
}

TEST(manifest_errors_name_the_line)
{
	CHECK_EQ(parse("program a\n\n  irq 24\n"), 3);
	CHECK(strstr(err, "irq"));
	CHECK_EQ(parse("program a restart=sometimes\n"), 1);
	CHECK(strstr(err, "never, on-crash or always"));
	CHECK_EQ(parse("program a restart=always\n"), 0);
	CHECK_EQ(m.programs[0].restart, RESTART_ALWAYS);
	CHECK_EQ(parse("program a quota=10\n"), 1);
	CHECK_EQ(parse("program a prio=3\n"), 1);
	CHECK(strstr(err, "unknown setting 'prio'"));
	CHECK_EQ(parse("program a\n  ioports 0x71-0x70\n"), 2);
	CHECK_EQ(parse("program a\n  ioports 0x70\n"), 2);
	CHECK_EQ(parse("program a\n  ioports 0x70-0x71\n  ioports 0x60-0x60\n"), 3);
	CHECK_EQ(parse("program a\n  mmio 1000 fff\n"), 2);
	CHECK_EQ(parse("program bad/name\n"), 1);
	CHECK_EQ(parse("program\n"), 1);
	CHECK_EQ(parse("  program a\n"), 1);
	CHECK_EQ(parse("program a\nprogram a\n"), 2);
	CHECK(strstr(err, "twice"));
	CHECK_EQ(parse("program a priority=99999999999999999999999\n"), 1);
}

TEST(manifest_limits)
{
	char text[4096] = "";
	for (int i = 0; i < MANIFEST_MAX_PROGRAMS + 1; i++) {
		char line[32];
		snprintf(line, sizeof(line), "program p%d\n", i);
		strcat(text, line);
	}
	CHECK_EQ(parse(text), MANIFEST_MAX_PROGRAMS + 1);
	CHECK(strstr(err, "more than"));
	char longline[300];
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	memcpy(longline, "program ", 8);
	CHECK_EQ(parse(longline), 1);
	CHECK_EQ(parse(""), 0);
	CHECK_EQ(m.nprograms, 0);
}

TEST(manifest_pci_device_and_dma)
{
	CHECK_EQ(parse("program e1000 dma=512\n    pci 8086:100E\n"
		       "program virtio\n    pci 00:04.0\n"), 0);
	CHECK_EQ(m.programs[0].dma, 512 * 1024);
	CHECK_EQ(m.programs[0].pci, PCI_MATCH_ID);
	CHECK_EQ(m.programs[0].pci_a, 0x8086);
	CHECK_EQ(m.programs[0].pci_b, 0x100e);
	CHECK_EQ(m.programs[1].dma, 0);
	CHECK_EQ(m.programs[1].pci, PCI_MATCH_SLOT);
	CHECK_EQ(m.programs[1].pci_a, 0);
	CHECK_EQ(m.programs[1].pci_b, 4 << 3);
	CHECK_EQ(parse("program a\n    pci 8086\n"), 2);
	CHECK(strstr(err, "VENDOR:DEVICE"));
	CHECK_EQ(parse("program a\n    pci 00:20.0\n"), 2);
	CHECK_EQ(parse("program a\n    pci 8086:10\n"), 2);
	CHECK_EQ(parse("program a\n    pci 00:03.0\n    pci 00:04.0\n"), 3);
	CHECK(strstr(err, "only one"));
	CHECK_EQ(parse("program a dma=999999999\n"), 1);
	CHECK(strstr(err, "dma must be"));
}

TEST(manifest_heartbeat_and_control)
{
	CHECK_EQ(parse("program eth0 heartbeat=200\nprogram console control=yes\nprogram x\n"), 0);
	CHECK_EQ(m.programs[0].heartbeat_ms, 200);
	CHECK(!m.programs[0].control);
	CHECK(m.programs[1].control);
	CHECK_EQ(m.programs[2].heartbeat_ms, 0);
	CHECK_EQ(parse("program a heartbeat=5\n"), 1);
	CHECK(strstr(err, "heartbeat must be"));
	CHECK_EQ(parse("program a heartbeat=0 control=maybe\n"), 1);
	CHECK(strstr(err, "control must be yes or no"));
}

TEST(manifest_files_and_memory)
{
	CHECK_EQ(parse("program posix memory=65536\n"
		       "    file rootfs.cpio\n"
		       "    file appliance.conf\n"
		       "program other\n"), 0);
	CHECK_EQ(m.programs[0].memory, 65536UL * 1024);
	CHECK_EQ(m.programs[0].nfiles, 2);
	CHECK(!strcmp(m.programs[0].files[0], "rootfs.cpio"));
	CHECK(!strcmp(m.programs[0].files[1], "appliance.conf"));
	CHECK_EQ(m.programs[1].memory, 0);
	CHECK_EQ(m.programs[1].nfiles, 0);
	CHECK_EQ(parse("program a memory=4194305\n"), 1);
	CHECK(strstr(err, "memory must be 0..4194304 KiB"));
	CHECK_EQ(parse("program a memory=lots\n"), 1);
	CHECK_EQ(parse("program a\n    file\n"), 2);
	CHECK(strstr(err, "'file' needs one boot module name"));
	CHECK_EQ(parse("program a\n    file a b\n"), 2);
	CHECK_EQ(parse("program a\n    file bad/name\n"), 2);
	CHECK_EQ(parse("program a\n  file f1\n  file f2\n  file f3\n  file f4\n  file f5\n"), 6);
	CHECK(strstr(err, "more than 4 files"));
	CHECK_EQ(parse("    file f1\n"), 1);
	CHECK(strstr(err, "'file' outside a program"));
}

/* Every lookup names a driver of the manifest (its `args name=`, else its
 * program name) or a private name of the netstack's; a typo is refused
 * with the program's line. */
TEST(manifest_lookups_name_something_registered)
{
	CHECK_EQ(parse("program e1000\n    pci 8086:100e\n    args itr=0 name=eth0\n"
		       "program nic1\n    pci 00:04.0\n"
		       "program netstack\n    lookup eth0\n    lookup nic1\n    lookup netmgmt\n"
		       "program posix-server\n    lookup net-lend\n"), 0);
	CHECK_EQ(manifest_check_lookups(&m, err, sizeof(err)), 0);
	/* A typo of a driver's name. */
	CHECK_EQ(parse("program e1000\n    pci 8086:100e\n    args name=eth0\n"
		       "program netstack\n    lookup eht0\n"), 0);
	CHECK_EQ(manifest_check_lookups(&m, err, sizeof(err)), 4);
	CHECK(strstr(err, "program netstack: 'lookup eht0': no driver here has that name (eth0)"));
	/* A program named like a driver, but driving nothing, registers no
	 * name; a driver with name= is not known by its program name. */
	CHECK_EQ(parse("program eth0\nprogram netstack\n    lookup eth0\n"), 0);
	CHECK_EQ(manifest_check_lookups(&m, err, sizeof(err)), 2);
	CHECK(strstr(err, "(none)"));
	CHECK_EQ(parse("program e1000\n    pci 8086:100e\n    args name=eth0\n"
		       "program console\n    lookup e1000\n"), 0);
	CHECK_EQ(manifest_check_lookups(&m, err, sizeof(err)), 4);
	/* The netstack's names, misspelt. */
	CHECK_EQ(parse("program console\n    lookup netmgnt\n"), 0);
	CHECK_EQ(manifest_check_lookups(&m, err, sizeof(err)), 1);
	CHECK(strstr(err, "private names are net-lend, netmgmt"));
}

TEST(manifest_lookup_lines)
{
	CHECK_EQ(parse("program posix-server\n"
		       "    lookup net-lend\n"
		       "program other\n"), 0);
	CHECK_EQ(m.programs[0].nlookups, 1);
	CHECK(!strcmp(m.programs[0].lookups[0], "net-lend"));
	CHECK_EQ(m.programs[1].nlookups, 0);
	CHECK_EQ(parse("program a\n    lookup\n"), 2);
	CHECK(strstr(err, "'lookup' needs one name of at most 24 characters"));
	CHECK_EQ(parse("program a\n    lookup a b\n"), 2);
	CHECK_EQ(parse("program a\n    lookup 0123456789012345678901234\n"), 2);
	CHECK_EQ(parse("program a\n    lookup 012345678901234567890123\n"), 0);
	/* A netstack of four NICs looks up four drivers' names. */
	CHECK_EQ(parse("program netstack\n  lookup eth0\n  lookup eth1\n  lookup eth2\n"
		       "  lookup eth3\n"), 0);
	CHECK_EQ(m.programs[0].nlookups, 4);
	CHECK(!strcmp(m.programs[0].lookups[3], "eth3"));
	CHECK_EQ(parse("program a\n  lookup v\n  lookup w\n  lookup x\n  lookup y\n"
		       "  lookup z\n"), 6);
	CHECK(strstr(err, "more than 4 lookup lines"));
}
