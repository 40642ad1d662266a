/* Host unit tests of a virtqueue's descriptors held by a device that may
 * lie about what it used (drivers/net/virtq_desc.c). */
#include "unit.h"

#include "virtq_desc.h"

static struct virtq_descs q;

TEST(virtq_descs_take_and_give_back_a_chain)
{
	uint16_t id[4], back[8];

	virtq_descs_init(&q, 8);
	CHECK_EQ(q.nfree, 8);
	CHECK(virtq_descs_take(&q, 3, id));
	CHECK_EQ(q.nfree, 5);
	CHECK(!virtq_descs_take(&q, 6, id + 3));        /* more than are free: nothing taken */
	CHECK_EQ(q.nfree, 5);
	CHECK_EQ(virtq_descs_used(&q, id[0], back, 8), 3);
	CHECK(back[0] == id[0] && back[1] == id[1] && back[2] == id[2]);
	CHECK_EQ(q.nfree, 8);
}

TEST(virtq_descs_refuse_ids_the_device_does_not_hold)
{
	uint16_t a[3], b[1], back[8];

	virtq_descs_init(&q, 8);
	CHECK(virtq_descs_take(&q, 3, a));
	CHECK(virtq_descs_take(&q, 1, b));
	CHECK_EQ(virtq_descs_used(&q, a[1], back, 8), 0);       /* inside a chain */
	CHECK_EQ(virtq_descs_used(&q, 8, back, 8), 0);          /* past the queue */
	CHECK_EQ(virtq_descs_used(&q, 0xFFFFFFFFu, back, 8), 0);
	uint16_t never = 0;
	while (never == a[0] || never == a[1] || never == a[2] || never == b[0])
		never++;
	CHECK_EQ(virtq_descs_used(&q, never, back, 8), 0);      /* free: never given */
	CHECK_EQ(q.nfree, 4);
	CHECK_EQ(virtq_descs_used(&q, b[0], back, 8), 1);
	CHECK_EQ(virtq_descs_used(&q, b[0], back, 8), 0);       /* the same id twice */
	CHECK_EQ(virtq_descs_used(&q, a[0], back, 8), 3);
	CHECK_EQ(virtq_descs_used(&q, a[0], back, 8), 0);
	CHECK_EQ(q.nfree, 8);
}

/* A device repeating one used id for ever cannot grow the free list past
 * the queue (the driver's free stack would overflow). */
TEST(virtq_descs_repeated_used_id_never_overflows)
{
	uint16_t id[2], back[8];

	virtq_descs_init(&q, VIRTQ_DESC_MAX);
	for (unsigned i = 0; i < VIRTQ_DESC_MAX / 2; i++)
		CHECK(virtq_descs_take(&q, 2, id));
	CHECK_EQ(q.nfree, 0);
	unsigned freed = 0;
	for (unsigned i = 0; i < 10 * VIRTQ_DESC_MAX; i++)
		freed += virtq_descs_used(&q, id[0], back, 8);
	CHECK_EQ(freed, 2);
	CHECK_EQ(q.nfree, 2);
	for (unsigned i = 0; i < VIRTQ_DESC_MAX; i++)
		virtq_descs_used(&q, i, back, 8);
	CHECK_EQ(q.nfree, VIRTQ_DESC_MAX);
	for (unsigned i = 0; i < VIRTQ_DESC_MAX; i++)
		CHECK_EQ(virtq_descs_used(&q, i, back, 8), 0);
	CHECK_EQ(q.nfree, VIRTQ_DESC_MAX);
}
