#include <string.h>

#include "config.h"
#include "lib/appliance_config.h"
#include "lib/inet.h"
#include "proto/netq.h"
#include "unit.h"

static struct nic_config c[NETSTACK_MAX_NICS];
static char err[128];

static unsigned parse(const char *args)
{
	err[0] = 0;
	return config_parse(args, c, NETSTACK_MAX_NICS, err, sizeof(err));
}

static uint32_t ip(unsigned a, unsigned b, unsigned cc, unsigned d)
{
	return a | b << 8 | cc << 16 | d << 24;     /* network order, little-endian CPU */
}

TEST(inet_parse_ipv4_good_and_bad)
{
	uint32_t a;
	CHECK(inet_parse_ipv4("10.1.0.2", 8, &a) && a == ip(10, 1, 0, 2));
	CHECK(inet_parse_ipv4("255.255.255.255", 15, &a) && a == 0xFFFFFFFF);
	CHECK(inet_parse_ipv4("10.1.0.2/24", 8, &a) && a == ip(10, 1, 0, 2));
	static const char *const bad[] = { "", "10.1.0", "10.1.0.2.3", "256.1.1.1", "1..2.3",
					   "1.2.3.4x", "1.2.3.", ".1.2.3", "1000.1.1.1", "a.b.c.d" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!inet_parse_ipv4(bad[i], strlen(bad[i]), &a));
}

TEST(netstack_config_static_and_dhcp)
{
	CHECK_EQ(parse("nic=eth0,eth1 eth0.addr=10.1.0.2/24 eth0.gw=10.1.0.1 eth1.addr=dhcp"), 2);
	CHECK(!strcmp(c[0].name, "eth0") && !c[0].dhcp);
	CHECK_EQ(c[0].addr, ip(10, 1, 0, 2));
	CHECK_EQ(c[0].mask, ip(255, 255, 255, 0));
	CHECK_EQ(c[0].gw, ip(10, 1, 0, 1));
	CHECK(!strcmp(c[1].name, "eth1") && c[1].dhcp && c[1].gw == 0);
	/* DHCP is the default; a /30 and a /8 mask. */
	CHECK_EQ(parse("nic=eth0"), 1);
	CHECK(c[0].dhcp);
	CHECK_EQ(parse("nic=eth0 eth0.addr=192.168.7.9/30"), 1);
	CHECK_EQ(c[0].mask, ip(255, 255, 255, 252));
	CHECK_EQ(parse("eth0.addr=10.0.0.1/8 nic=eth0"), 1);
	CHECK_EQ(c[0].mask, ip(255, 0, 0, 0));
}

TEST(netstack_config_errors_name_the_argument)
{
	CHECK_EQ(parse(""), 0);
	CHECK(strstr(err, "nic="));
	CHECK_EQ(parse("nic=eth0 eth0.addr=10.1.0.2"), 0);
	CHECK(strstr(err, "eth0.addr"));
	CHECK_EQ(parse("nic=eth0 eth0.addr=10.1.0.2/33"), 0);
	CHECK_EQ(parse("nic=eth0 eth0.addr=10.1.0.2/0"), 0);
	CHECK_EQ(parse("nic=eth0 eth0.addr=10.1.0.300/24"), 0);
	CHECK_EQ(parse("nic=eth0 eth0.addr=10.1.0.2/24 eth0.gw=10.2.0.1"), 0);
	CHECK(strstr(err, "eth0.gw") && strstr(err, "not on"));
	CHECK_EQ(parse("nic=eth0 eth0.addr=10.1.0.2/24 eth0.gw=x"), 0);
	CHECK_EQ(parse("nic=eth0,eth0"), 0);
	CHECK(strstr(err, "twice"));
	CHECK_EQ(parse("nic=eth0,,eth1"), 0);
	CHECK_EQ(parse("nic=a,b,c,d,e"), 0);
	CHECK(strstr(err, "at most 4"));
}

static struct appliance_config ac;

static void appliance(const char *text)
{
	struct config_error e;
	CHECK(appliance_config_parse(text, strlen(text), &ac, &e));
}

TEST(netstack_config_binds_by_pci_slot_then_mac_then_any)
{
	static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0, 0, 0xa }, other[6] = { 2 };
	appliance("interface one { device any; address dhcp }\n"
		  "interface two { device mac 52:54:00:00:00:0a; address dhcp }\n"
		  "interface three { device pci 00:04.0; address dhcp }\n");
	/* By slot, whatever the declaration order. */
	CHECK_EQ(config_bind(&ac, 0, NETQ_PCI_SLOT(0, 4, 0), other), 2);
	/* By MAC address; any other NIC takes the `any` one. */
	CHECK_EQ(config_bind(&ac, 0, NETQ_PCI_SLOT(0, 3, 0), mac_a), 1);
	CHECK_EQ(config_bind(&ac, 0, NETQ_PCI_SLOT(0, 5, 0), other), 0);
	/* Taken ones are skipped; nothing left: -1. */
	CHECK_EQ(config_bind(&ac, 1U << 2, NETQ_PCI_SLOT(0, 4, 0), other), 0);
	CHECK_EQ(config_bind(&ac, 1U << 0, NETQ_PCI_SLOT(0, 5, 0), other), -1);
	CHECK_EQ(config_bind(&ac, 0, 0, other), 0);     /* no slot known */
}

TEST(netstack_config_interface_from_the_appliance_configuration)
{
	struct nic_config n;
	appliance("interface lan { device any; address 192.168.10.1/24; mtu 9000 }\n"
		  "interface wan { device any; address 10.9.0.2/30; mtu 1400 }\n"
		  "route default via 10.9.0.1\n");
	config_interface(&ac, 0, &n);
	CHECK(!strcmp(n.name, "lan") && !n.dhcp && n.addr == ip(192, 168, 10, 1));
	CHECK_EQ(n.mask, ip(255, 255, 255, 0));
	CHECK_EQ(n.mtu, NIC_MTU_MAX);   /* frames are at most 1518 bytes */
	CHECK_EQ(n.gw, 0);
	config_interface(&ac, 1, &n);
	CHECK(!strcmp(n.name, "wan") && n.mtu == 1400 && n.gw == ip(10, 9, 0, 1));
}

TEST(netstack_config_mtu_argument)
{
	CHECK_EQ(parse("nic=eth0 eth0.mtu=1400"), 1);
	CHECK_EQ(c[0].mtu, 1400);
	CHECK_EQ(parse("nic=eth0"), 1);
	CHECK_EQ(c[0].mtu, NIC_MTU_MAX);
	CHECK_EQ(parse("nic=eth0 eth0.mtu=1501"), 0);
	CHECK(strstr(err, "eth0.mtu"));
	CHECK_EQ(parse("nic=eth0 eth0.mtu=500"), 0);
}
