#include <string.h>

#include "config.h"
#include "lib/inet.h"
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
