#include <string.h>

#include "route.h"
#include "uapi/errors.h"
#include "unit.h"

static uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return a | b << 8 | c << 16 | d << 24;      /* network order, little-endian CPU */
}

static struct route_table t;

static int add(uint32_t dest, unsigned len, int iface, uint32_t gw, unsigned metric,
	       enum route_origin origin)
{
	struct route r = { .dest = dest, .prefix_len = (uint8_t)len, .iface = (int8_t)iface,
			   .gateway = gw, .metric = (uint16_t)metric, .origin = (uint8_t)origin };
	return route_add(&t, &r);
}

/* lan 0 = 192.168.1.0/24, wan 1 = 203.0.113.0/29, dmz 2 = 10.50.0.0/16 */
static void two_networks_and_routes(void)
{
	route_table_init(&t);
	add(ip(192, 168, 1, 0), 24, 0, 0, 0, ROUTE_CONNECTED);
	add(ip(203, 0, 113, 0), 29, 1, 0, 0, ROUTE_CONNECTED);
	add(ip(10, 50, 0, 0), 16, 2, 0, 0, ROUTE_CONNECTED);
	add(0, 0, -1, ip(203, 0, 113, 1), 0, ROUTE_STATIC);             /* default via wan */
	add(ip(10, 0, 0, 0), 8, -1, ip(192, 168, 1, 254), 0, ROUTE_STATIC);
	add(ip(10, 20, 0, 0), 16, -1, ip(192, 168, 1, 253), 0, ROUTE_STATIC);
	add(ip(10, 20, 30, 0), 24, 1, ip(203, 0, 113, 6), 0, ROUTE_STATIC);
}

static bool hop_is(uint32_t dst, uint32_t up, unsigned iface, uint32_t next_hop)
{
	struct route_hop h;
	if (!route_lookup(&t, dst, up, &h)) {
		printf("  no route\n");
		return false;
	}
	if (h.iface != iface || h.next_hop != next_hop)
		printf("  got iface %u next hop %08x\n", h.iface, h.next_hop);
	return h.iface == iface && h.next_hop == next_hop;
}

TEST(route_longest_prefix_wins)
{
	two_networks_and_routes();
	CHECK(hop_is(ip(192, 168, 1, 7), 7, 0, ip(192, 168, 1, 7)));   /* on the link */
	CHECK(hop_is(ip(10, 1, 2, 3), 7, 0, ip(192, 168, 1, 254)));    /* /8 */
	CHECK(hop_is(ip(10, 20, 9, 9), 7, 0, ip(192, 168, 1, 253)));   /* /16 beats /8 */
	CHECK(hop_is(ip(10, 20, 30, 4), 7, 1, ip(203, 0, 113, 6)));    /* /24 beats /16 */
	CHECK(hop_is(ip(10, 50, 1, 1), 7, 2, ip(10, 50, 1, 1)));       /* connected /16 beats /8 */
	CHECK(hop_is(ip(8, 8, 8, 8), 7, 1, ip(203, 0, 113, 1)));       /* default */
	CHECK(hop_is(ip(203, 0, 113, 9), 7, 1, ip(203, 0, 113, 1)));   /* just off the /29 */
	CHECK_EQ(t.routes[0].prefix_len, 29);
	CHECK_EQ(t.routes[t.n - 1].prefix_len, 0);
}

TEST(route_down_interface_falls_back)
{
	two_networks_and_routes();
	/* wan down: its /24 static is passed over for the /16 via lan */
	CHECK(hop_is(ip(10, 20, 30, 4), 1 | 4, 0, ip(192, 168, 1, 253)));
	/* lan down: the gateways on lan are unreachable, so 10/8 falls to the default */
	CHECK(hop_is(ip(10, 1, 2, 3), 2 | 4, 1, ip(203, 0, 113, 1)));
	/* dmz down: its connected route is passed over too */
	CHECK(hop_is(ip(10, 50, 1, 1), 1 | 2, 0, ip(192, 168, 1, 254)));
	struct route_hop h;
	CHECK(!route_lookup(&t, ip(8, 8, 8, 8), 1 | 4, &h));           /* net unreachable */
	CHECK(!route_lookup(&t, ip(8, 8, 8, 8), 0, &h));
}

TEST(route_metric_orders_equal_prefixes)
{
	route_table_init(&t);
	add(ip(192, 168, 1, 0), 24, 0, 0, 0, ROUTE_CONNECTED);
	add(ip(192, 168, 2, 0), 24, 1, 0, 0, ROUTE_CONNECTED);
	CHECK_EQ(add(0, 0, -1, ip(192, 168, 2, 1), 20, ROUTE_STATIC), 0);
	CHECK_EQ(add(0, 0, -1, ip(192, 168, 1, 1), 10, ROUTE_DHCP), 0);
	CHECK(hop_is(ip(1, 1, 1, 1), 3, 0, ip(192, 168, 1, 1)));
	CHECK(hop_is(ip(1, 1, 1, 1), 2, 1, ip(192, 168, 2, 1)));       /* lower metric's link down */
	CHECK_EQ(add(0, 0, 1, ip(192, 168, 2, 9), 20, ROUTE_STATIC), -ERR_BUSY);
	CHECK_EQ(route_del(&t, 0, 0, -1), 0);                           /* the lowest metric */
	CHECK(hop_is(ip(1, 1, 1, 1), 3, 1, ip(192, 168, 2, 1)));
	CHECK_EQ(route_del(&t, 0, 0, 10), -ERR_INVALID_ARG);
	CHECK_EQ(route_del(&t, 0, 0, 20), 0);
	struct route_hop h;
	CHECK(!route_lookup(&t, ip(1, 1, 1, 1), 3, &h));
}

TEST(route_gateway_must_be_on_its_interface)
{
	route_table_init(&t);
	add(ip(192, 168, 1, 0), 24, 0, 0, 0, ROUTE_CONNECTED);
	add(ip(192, 168, 2, 0), 24, 1, 0, 0, ROUTE_CONNECTED);
	/* named interface 1, but the gateway is on interface 0's network */
	add(ip(10, 0, 0, 0), 8, 1, ip(192, 168, 1, 1), 0, ROUTE_STATIC);
	struct route_hop h;
	CHECK(!route_lookup(&t, ip(10, 1, 1, 1), 3, &h));
	/* a gateway route through a link route only is not taken either */
	add(ip(172, 16, 0, 0), 12, 1, 0, 0, ROUTE_STATIC);                /* on the link of 1 */
	add(ip(172, 16, 5, 0), 24, -1, ip(172, 16, 0, 1), 0, ROUTE_STATIC);
	CHECK(hop_is(ip(172, 16, 5, 5), 3, 1, ip(172, 16, 5, 5)));     /* falls to the /12 */
	CHECK(route_lookup(&t, ip(172, 16, 5, 5), 3, &h) && h.route->prefix_len == 12);
}

TEST(route_add_refuses_bad_routes_and_a_full_table)
{
	route_table_init(&t);
	CHECK_EQ(add(ip(10, 1, 0, 0), 8, 0, 0, 0, ROUTE_STATIC), -ERR_INVALID_ARG);   /* host bits */
	CHECK_EQ(add(ip(10, 0, 0, 0), 33, 0, 0, 0, ROUTE_STATIC), -ERR_INVALID_ARG);
	CHECK_EQ(add(ip(10, 0, 0, 0), 8, -1, 0, 0, ROUTE_STATIC), -ERR_INVALID_ARG);   /* nowhere */
	CHECK_EQ(add(ip(10, 0, 0, 0), 8, 32, 0, 0, ROUTE_STATIC), -ERR_INVALID_ARG);
	CHECK_EQ(add(ip(10, 0, 0, 5), 32, 0, 0, 0, ROUTE_STATIC), 0);
	CHECK_EQ(t.routes[0].mask, 0xffffffffu);
	for (unsigned i = 1; i < ROUTE_MAX; i++)
		CHECK_EQ(add(ip(10, 1, i, 0), 24, 0, 0, 0, ROUTE_STATIC), 0);
	CHECK_EQ(add(ip(10, 2, 0, 0), 24, 0, 0, 0, ROUTE_STATIC), -ERR_NO_MEMORY);
	CHECK_EQ(t.n, ROUTE_MAX);
	for (unsigned i = 1; i < t.n; i++)
		CHECK(t.routes[i - 1].prefix_len >= t.routes[i].prefix_len);
}

TEST(route_del_iface_removes_one_origin)
{
	two_networks_and_routes();
	add(0, 0, 1, ip(203, 0, 113, 2), 5, ROUTE_DHCP);
	unsigned before = t.n;
	CHECK_EQ(route_del_iface(&t, 1, ROUTE_DHCP), 1);
	CHECK_EQ(route_del_iface(&t, 1, ROUTE_CONNECTED), 1);
	CHECK_EQ(t.n, before - 2);
	/* the static routes through wan's gateways stay, but cannot be used */
	CHECK(hop_is(ip(10, 20, 30, 4), 7, 0, ip(192, 168, 1, 253)));
	struct route_hop h;
	CHECK(!route_lookup(&t, ip(8, 8, 8, 8), 7, &h));
}
