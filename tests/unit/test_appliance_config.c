#include <stdlib.h>
#include <string.h>

#include "lib/appliance_config.h"
#include "unit.h"

static struct appliance_config c;
static struct config_error err;

static bool parse(const char *text)
{
	return appliance_config_parse(text, strlen(text), &c, &err);
}

/* The text fails at line:column (column 0: any) with a message containing want. */
static bool fails(const char *text, unsigned line, unsigned column, const char *want)
{
	if (parse(text))
		return false;
	if (err.line != line || (column && err.column != column) || !strstr(err.message, want)) {
		printf("  got %u:%u: %s\n", err.line, err.column, err.message);
		return false;
	}
	return true;
}

static uint32_t ip(unsigned a, unsigned b, unsigned cc, unsigned d)
{
	return a | b << 8 | cc << 16 | d << 24;     /* network order, little-endian CPU */
}

static const char router[] =
	"# a two-port router\n"
	"forwarding on\n"
	"interface lan {\n"
	"    device pci 00:03.0\n"
	"    address 192.168.1.1/24   # the LAN side\n"
	"}\n"
	"interface wan {\n"
	"\tdevice mac 52:54:00:AB:cd:02\n"
	"\taddress 203.0.113.2/29\n"
	"\tmtu 1400\n"
	"}\n"
	"interface dmz { device any; address dhcp }\n"
	"route default via 203.0.113.1\n"
	"route 10.0.0.0/8 via 192.168.1.254 metric 10\n"
	"route 10.0.0.0/8 dev dmz metric 20\n"
	"route 172.16.5.9 via 192.168.1.254 dev lan\n"
	"service ping on any\n"
	"service iperf on lan, wan\n"
	"service echo port 7007 on lan;\n";

TEST(appliance_config_router)
{
	CHECK(parse(router));
	CHECK(c.forwarding);
	CHECK_EQ(c.ninterfaces, 3);
	CHECK(!strcmp(c.interfaces[0].name, "lan"));
	CHECK_EQ(c.interfaces[0].device, DEVICE_PCI);
	CHECK_EQ(c.interfaces[0].pci_bus, 0);
	CHECK_EQ(c.interfaces[0].pci_devfn, 3 << 3);
	CHECK_EQ(c.interfaces[0].addr, ip(192, 168, 1, 1));
	CHECK_EQ(c.interfaces[0].mask, ip(255, 255, 255, 0));
	CHECK_EQ(c.interfaces[0].prefix_len, 24);
	CHECK_EQ(c.interfaces[0].mtu, 1500);
	CHECK_EQ(c.interfaces[0].line, 3);
	CHECK_EQ(c.interfaces[1].device, DEVICE_MAC);
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0xab, 0xcd, 2 };
	CHECK(!memcmp(c.interfaces[1].mac, mac, 6));
	CHECK_EQ(c.interfaces[1].mask, ip(255, 255, 255, 248));
	CHECK_EQ(c.interfaces[1].mtu, 1400);
	CHECK_EQ(c.interfaces[2].device, DEVICE_ANY);
	CHECK(c.interfaces[2].dhcp);

	CHECK_EQ(c.nroutes, 4);
	CHECK_EQ(c.routes[0].prefix_len, 0);
	CHECK_EQ(c.routes[0].mask, 0);
	CHECK_EQ(c.routes[0].gateway, ip(203, 0, 113, 1));
	CHECK_EQ(c.routes[0].iface, 1);         /* found by the gateway's network */
	CHECK_EQ(c.routes[1].dest, ip(10, 0, 0, 0));
	CHECK_EQ(c.routes[1].mask, ip(255, 0, 0, 0));
	CHECK_EQ(c.routes[1].metric, 10);
	CHECK_EQ(c.routes[1].iface, 0);
	CHECK_EQ(c.routes[2].gateway, 0);
	CHECK_EQ(c.routes[2].iface, 2);
	CHECK_EQ(c.routes[3].prefix_len, 32);   /* a bare address is a host route */
	CHECK_EQ(c.routes[3].line, 16);

	CHECK_EQ(c.nservices, 3);
	CHECK_EQ(c.services[0].kind, SERVICE_PING);
	CHECK_EQ(c.services[0].ifaces, 7);
	CHECK_EQ(c.services[1].port, 5001);
	CHECK_EQ(c.services[1].ifaces, 3);
	CHECK_EQ(c.services[2].port, 7007);
	CHECK(!strcmp(appliance_service_name(c.services[2].kind), "echo"));
}

TEST(appliance_config_empty_and_defaults)
{
	CHECK(parse(""));
	CHECK(!c.forwarding && c.ninterfaces == 0 && c.nroutes == 0);
	CHECK(parse("\n# only a comment\n\n;;\n"));
	/* 'any' covers interfaces declared after the service, too */
	CHECK(parse("service ping on any\ninterface a { device any\naddress dhcp\n}\n"
		    "interface b { device any; address dhcp }"));
	CHECK_EQ(c.services[0].ifaces, 3);
	CHECK_EQ(c.services[0].port, 0);
	CHECK(parse("forwarding off"));
	CHECK(!c.forwarding);
}

TEST(appliance_config_syntax_errors)
{
	CHECK(fails("forwarding maybe\n", 1, 12, "expected 'on' or 'off'"));
	CHECK(fails("\n  strat\n", 2, 3, "unknown keyword 'strat'"));
	CHECK(fails("}\n", 1, 1, "'}' without a block to close"));
	CHECK(fails(",\n", 1, 1, "unexpected ','"));
	CHECK(fails("forwarding on off\n", 1, 15, "unexpected 'off' after the end"));
	CHECK(fails("interface lan\n", 1, 14, "expected '{'"));
	CHECK(fails("interface lan {\n device any\n address dhcp\n", 1, 11, "no '}' closes"));
	CHECK(fails("interface lan { device any; speed 10 }", 1, 29, "unknown setting 'speed'"));
	CHECK(fails("interface lan { device any; device any; address dhcp }", 1, 29,
		    "'device' given twice"));
	CHECK(fails("interface lan { address dhcp }", 1, 11, "no 'device'"));
	CHECK(fails("interface lan { device any }", 1, 11, "no 'address'"));
	CHECK(fails("interface lan { device any address dhcp }", 1, 28, "unexpected 'address'"));
	CHECK(fails("forwarding \x01", 1, 12, "unexpected character"));
	CHECK(fails("route aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1, 7, "longer than"));
	CHECK(fails("interface lan { device any; address dhcp }}", 1, 43, "without a block"));
}

TEST(appliance_config_interface_errors)
{
	CHECK(fails("interface LAN { device any; address dhcp }", 1, 11, "not an interface name"));
	CHECK(fails("interface any { device any; address dhcp }", 1, 11, "not an interface name"));
	CHECK(fails("interface a-very-long-name { device any; address dhcp }", 1, 11,
		    "not an interface name"));
	CHECK(fails("interface a { device any; address dhcp }\ninterface a { device any; address dhcp }",
		    2, 11, "declared twice (first on line 1)"));
	CHECK(fails("interface a { device any; address dhcp }\ninterface b { device any; address dhcp }\n"
		    "interface c { device any; address dhcp }\ninterface d { device any; address dhcp }\n"
		    "interface e { device any; address dhcp }", 5, 11, "at most 4 interfaces"));
	CHECK(fails("interface a { device pci 0:3 }", 1, 26, "not a PCI slot"));
	CHECK(fails("interface a { device pci 00:20.0 }", 1, 26, "not a PCI slot"));
	CHECK(fails("interface a { device pci 00:03.8 }", 1, 26, "not a PCI slot"));
	CHECK(fails("interface a { device usb 1 }", 1, 22, "expected 'pci BB:DD.F'"));
	CHECK(fails("interface a { device mac 52:54:00:12:34 }", 1, 26, "not a MAC address"));
	CHECK(fails("interface a { device mac 52-54-00-12-34-56 }", 1, 26, "not a MAC address"));
	CHECK(fails("interface a { device mac 01:00:5e:00:00:01 }", 1, 26, "multicast"));
	CHECK(fails("interface a { device pci 00:03.0; address dhcp }\n"
		    "interface b { device pci 00:03.0; address dhcp }", 2, 26,
		    "already interface a's device (line 1)"));
	CHECK(fails("interface a { device any; address 10.1.0.1 }", 1, 35, "A.B.C.D/LEN"));
	CHECK(fails("interface a { device any; address 10.1.0.1/31 }", 1, 35, "LEN 1..30"));
	CHECK(fails("interface a { device any; address 10.1.0.0/24 }", 1, 35, "not a host address"));
	CHECK(fails("interface a { device any; address 10.1.0.255/24 }", 1, 35, "not a host address"));
	CHECK(fails("interface a { device any; address 127.0.0.1/8 }", 1, 35, "not a host address"));
	CHECK(fails("interface a { device any; address 224.0.0.1/24 }", 1, 35, "not a host address"));
	CHECK(fails("interface a { device any; address }", 1, 35, "after 'address'"));
	CHECK(fails("interface a { device any; address 10.1.0.1/24 }\n"
		    "interface b { device any; address 10.1.0.129/25 }", 2, 35,
		    "overlaps interface a's network 10.1.0.0/24 (line 1)"));
	CHECK(fails("interface a { device any; address dhcp; mtu 575 }", 1, 45, "576 to 9000"));
	CHECK(fails("interface a { device any; address dhcp; mtu 9001 }", 1, 45, "576 to 9000"));
	CHECK(fails("interface a { device any; address dhcp; mtu big }", 1, 45, "MTU"));
}

static const char two[] = "interface lan { device any; address 10.1.0.1/24 }\n"
			  "interface wan { device any; address 10.2.0.1/24 }\n";

/* Lines after the two interfaces fail at line 3 (or the given one). */
static bool fails_after_two_at(const char *lines, unsigned line, unsigned column, const char *want)
{
	char text[512];

	snprintf(text, sizeof(text), "%s%s", two, lines);
	return fails(text, line, column, want);
}

static bool fails_after_two(const char *lines, unsigned column, const char *want)
{
	return fails_after_two_at(lines, 3, column, want);
}

TEST(appliance_config_route_errors)
{
	CHECK(fails_after_two("route 10.9.0.0/16 via 10.7.0.1", 23, "on no interface's network"));
	CHECK(fails_after_two("route 10.9.0.0/16 via 10.1.0.9 dev wan", 23,
			      "not on interface wan's network"));
	CHECK(fails_after_two("route default via 10.1.0.1", 19, "interface lan's own address"));
	CHECK(fails_after_two("route default via 255.255.255.255", 19, "not a unicast host"));
	CHECK(fails_after_two("route default via 10.1.0", 19, "not a gateway address"));
	CHECK(fails_after_two("route 10.9.0.1/16 via 10.1.0.9", 7, "host bits set (the network is 10.9.0.0/16)"));
	CHECK(fails_after_two("route 10.9.0.0/33 via 10.1.0.9", 7, "not a destination"));
	CHECK(fails_after_two("route via 10.1.0.9", 7, "not a destination"));
	CHECK(fails_after_two("route default", 14, "needs 'via GATEWAY' or 'dev INTERFACE'"));
	CHECK(fails_after_two("route default via 10.1.0.9 via 10.1.0.8", 28, "'via' given twice"));
	CHECK(fails_after_two("route default dev lam", 19, "unknown interface 'lam'"));
	CHECK(fails_after_two("route default dev wan metric 70000", 30, "not a metric"));
	CHECK(fails_after_two("route default dev wan gateway 10.2.0.1", 23, "unexpected 'gateway'"));
	CHECK(fails_after_two_at("route default dev wan\nroute 0.0.0.0/0 dev lan", 4, 7,
				 "same destination and metric as the route on line 3"));
	/* with a DHCP interface, a gateway elsewhere may be on its network */
	CHECK(parse("interface w { device any; address dhcp }\nroute 10.9.0.0/16 via 10.7.0.1"));
	CHECK_EQ(c.routes[0].iface, -1);
	CHECK(parse("interface w { device any; address dhcp }\nroute default via 10.7.0.1 dev w"));
	CHECK_EQ(c.routes[0].iface, 0);
	char many[4096];
	size_t n = (size_t)snprintf(many, sizeof(many), "%s", two);
	for (unsigned i = 0; i <= APPLIANCE_MAX_ROUTES; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "route 10.%u.0.0/16 dev lan\n", 100 + i);
	CHECK(!parse(many));
	CHECK(err.line == 3 + APPLIANCE_MAX_ROUTES && strstr(err.message, "at most 32 static routes"));
}

TEST(appliance_config_service_errors)
{
	CHECK(fails_after_two("service ssh on lan", 9, "unknown service 'ssh'"));
	CHECK(fails_after_two("service ping port 7 on lan", 14, "ping has no port"));
	CHECK(fails_after_two("service echo port 0 on lan", 19, "port 1..65535"));
	CHECK(fails_after_two("service echo port 65536 on lan", 19, "port 1..65535"));
	CHECK(fails_after_two("service echo lan", 14, "expected 'on INTERFACE"));
	CHECK(fails_after_two("service echo on lan,", 21, "expected an interface name"));
	CHECK(fails_after_two("service echo on lan, dmz", 22, "unknown interface 'dmz'"));
	CHECK(fails_after_two_at("service echo on lan\nservice echo on wan", 4, 9,
				 "service echo is already on line 3"));
	CHECK(fails_after_two_at("service echo port 5001 on lan\nservice iperf on wan", 4, 9,
				 "port 5001 is already service echo's (line 3)"));
}

/* Every prefix of a valid file either parses or fails with a position
 * inside the text: the parser never reads past the end. */
TEST(appliance_config_truncated_text)
{
	for (size_t n = 0; n <= sizeof(router) - 1; n++) {
		char *copy = malloc(n ? n : 1);     /* exact size: ASan sees any overrun */
		memcpy(copy, router, n);
		if (!appliance_config_parse(copy, n, &c, &err)) {
			CHECK(err.line >= 1 && err.line <= 19);
			CHECK(err.message[0]);
		}
		free(copy);
	}
}
