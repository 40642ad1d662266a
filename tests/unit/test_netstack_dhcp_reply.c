#include <stdint.h>
#include <string.h>

#include "dhcp_reply.h"
#include "lib/inet_csum.h"
#include "unit.h"

/* A reply from 10.1.0.1 to 10.1.0.2 built option by option. */
struct reply {
	uint8_t b[600];
	size_t len;
};

static void start(struct reply *r, uint8_t type, uint32_t yiaddr)
{
	memset(r, 0, sizeof(*r));
	inet_put16(r->b, 67);
	inet_put16(r->b + 2, 68);
	r->b[8] = 2;
	for (int i = 0; i < 4; i++)
		r->b[8 + 16 + i] = (uint8_t)(yiaddr >> (24 - 8 * i));
	const uint8_t cookie[4] = { 99, 130, 83, 99 };
	memcpy(r->b + 8 + 236, cookie, 4);
	r->len = 8 + 240;
	r->b[r->len++] = 53;
	r->b[r->len++] = 1;
	r->b[r->len++] = type;
}

static void opt32(struct reply *r, uint8_t code, uint32_t v)
{
	r->b[r->len++] = code;
	r->b[r->len++] = 4;
	for (int i = 0; i < 4; i++)
		r->b[r->len++] = (uint8_t)(v >> (24 - 8 * i));
}

static void opt_raw(struct reply *r, const uint8_t *bytes, size_t n)
{
	memcpy(r->b + r->len, bytes, n);
	r->len += n;
}

/* End it; the UDP length and a checksum over a pseudo-header. */
static void finish(struct reply *r)
{
	r->b[r->len++] = 255;
	inet_put16(r->b + 4, (uint16_t)r->len);
	uint8_t pseudo[12] = { 10, 1, 0, 1, 10, 1, 0, 2, 0, 17 };
	inet_put16(pseudo + 10, (uint16_t)r->len);
	inet_put16(r->b + 6, 0);
	inet_put16(r->b + 6, inet_fold(inet_sum(r->b, r->len, inet_sum(pseudo, 12, 0))));
}

static uint16_t verify(const struct reply *r)
{
	uint8_t pseudo[12] = { 10, 1, 0, 1, 10, 1, 0, 2, 0, 17 };
	inet_put16(pseudo + 10, (uint16_t)r->len);
	return inet_fold(inet_sum(r->b, r->len, inet_sum(pseudo, 12, 0)));
}

#define ADDR(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* A good offer of 10.1.0.2/24 by 10.1.0.1, router 10.1.0.1, lease. */
static void good(struct reply *r, uint8_t type, uint32_t lease)
{
	start(r, type, ADDR(10, 1, 0, 2));
	opt32(r, 54, ADDR(10, 1, 0, 1));
	opt32(r, 1, 0xFFFFFF00);
	opt32(r, 3, ADDR(10, 1, 0, 1));
	opt32(r, 51, lease);
}

static enum dhcp_reply_verdict check(struct reply *r)
{
	const char *why;
	enum dhcp_reply_verdict v = dhcp_reply_check(r->b, r->len, &why);
	if (v == DHCP_REPLY_REFUSED && !why)
		return (enum dhcp_reply_verdict)-1;
	return v;
}

TEST(dhcp_reply_good_offer_and_ack)
{
	struct reply r;
	good(&r, 2, 3600);
	finish(&r);
	CHECK_EQ(check(&r), DHCP_REPLY_OK);
	good(&r, 5, 0xFFFFFFFF);
	finish(&r);
	CHECK_EQ(check(&r), DHCP_REPLY_OK);
	start(&r, 2, ADDR(192, 168, 7, 9));     /* no mask: class C; no router */
	opt32(&r, 54, ADDR(192, 168, 7, 1));
	opt32(&r, 51, 600);
	finish(&r);
	CHECK_EQ(check(&r), DHCP_REPLY_OK);
}

TEST(dhcp_reply_others_left_to_lwip)
{
	struct reply r;
	start(&r, 6, ADDR(10, 1, 0, 2));        /* a NAK */
	finish(&r);
	CHECK_EQ(check(&r), DHCP_REPLY_OTHER);
	good(&r, 2, 3600);
	finish(&r);
	r.b[8] = 1;                             /* a request, not a reply */
	CHECK_EQ(check(&r), DHCP_REPLY_OTHER);
	CHECK_EQ(dhcp_reply_check(r.b, 100, &(const char *){ 0 }), DHCP_REPLY_OTHER);
}

TEST(dhcp_reply_refused)
{
	static const uint32_t bad_addrs[] = { 0, ADDR(255, 255, 255, 255), ADDR(224, 0, 0, 1),
					      ADDR(127, 0, 0, 1), ADDR(10, 1, 0, 0),
					      ADDR(10, 1, 0, 255) };
	struct reply r;
	for (unsigned i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		start(&r, 2, bad_addrs[i]);
		opt32(&r, 54, ADDR(10, 1, 0, 1));
		opt32(&r, 1, 0xFFFFFF00);
		opt32(&r, 51, 3600);
		finish(&r);
		CHECK_EQ(check(&r), DHCP_REPLY_REFUSED);
	}
	static const uint32_t bad_masks[] = { 0, 0xFFFFFFFF, 0xFFFFFFFE, 0xFF00FF00 };
	for (unsigned i = 0; i < 4; i++) {
		good(&r, 5, 3600);
		opt32(&r, 1, 0);                /* a second one is not read */
		finish(&r);
		for (int k = 0; k < 4; k++)     /* the first mask's value */
			r.b[8 + 240 + 3 + 6 + 2 + k] = (uint8_t)(bad_masks[i] >> (24 - 8 * k));
		CHECK_EQ(check(&r), DHCP_REPLY_REFUSED);
	}
	static const uint32_t bad_routers[] = { ADDR(10, 1, 0, 2), ADDR(10, 2, 0, 1),
						ADDR(10, 1, 0, 255), 0 };
	for (unsigned i = 0; i < 4; i++) {
		start(&r, 2, ADDR(10, 1, 0, 2));
		opt32(&r, 54, ADDR(10, 1, 0, 1));
		opt32(&r, 1, 0xFFFFFF00);
		opt32(&r, 3, bad_routers[i]);
		opt32(&r, 51, 3600);
		finish(&r);
		CHECK_EQ(check(&r), DHCP_REPLY_REFUSED);
	}
	start(&r, 5, ADDR(10, 1, 0, 2));        /* no server identifier */
	opt32(&r, 51, 3600);
	finish(&r);
	CHECK_EQ(check(&r), DHCP_REPLY_REFUSED);
	start(&r, 5, ADDR(10, 1, 0, 2));        /* no lease */
	opt32(&r, 54, ADDR(10, 1, 0, 1));
	finish(&r);
	CHECK_EQ(check(&r), DHCP_REPLY_REFUSED);
	good(&r, 2, 3600);                      /* overload */
	opt_raw(&r, (const uint8_t[]){ 52, 1, 3 }, 3);
	finish(&r);
	CHECK_EQ(check(&r), DHCP_REPLY_REFUSED);
	good(&r, 2, 3600);                      /* an option past the end */
	opt_raw(&r, (const uint8_t[]){ 12, 40, 'x' }, 3);
	CHECK_EQ(check(&r), DHCP_REPLY_REFUSED);
	good(&r, 2, 3600);                      /* no end */
	CHECK_EQ(check(&r), DHCP_REPLY_REFUSED);
}

TEST(dhcp_reply_short_lease_raised_checksum_kept)
{
	struct reply r;
	for (unsigned pad = 0; pad < 2; pad++) {        /* the lease at either alignment */
		start(&r, 5, ADDR(10, 1, 0, 2));
		opt32(&r, 54, ADDR(10, 1, 0, 1));
		if (pad)
			r.b[r.len++] = 0;
		opt32(&r, 51, 20);
		size_t lease_at = r.len - 4;
		opt32(&r, 58, 10);
		finish(&r);
		CHECK_EQ(verify(&r), 0);
		CHECK_EQ(check(&r), DHCP_REPLY_LEASE_RAISED);
		CHECK_EQ(r.b[lease_at + 3], DHCP_LEASE_FLOOR_S);
		CHECK_EQ(r.b[lease_at + 6 + 3], DHCP_LEASE_FLOOR_S / 2);
		CHECK_EQ(verify(&r), 0);
		CHECK_EQ(check(&r), DHCP_REPLY_OK);             /* and now it is enough */
	}
	good(&r, 5, 20);
	finish(&r);
	inet_put16(r.b + 6, 0);                 /* no checksum stays none */
	CHECK_EQ(check(&r), DHCP_REPLY_LEASE_RAISED);
	CHECK_EQ(inet_get16(r.b + 6), 0);
}
