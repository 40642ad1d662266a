/*
 * A stream's sends by reference from its session's buffer (proto/socket.h,
 * SOCK_SEND_LENT; docs/netstack.md, "Sending the client's bytes by
 * reference"). A session whose buffer lies in lwIP's heap (DMA memory the
 * drivers read: tx_heap.c sends from it) has a send area, the buffer from
 * SOCK_SEND_AREA_AT to SOCK_SEND_AREA_TAIL before its end (proto/socket.h's
 * layout). A SEND's reply offers the client the area's next free run; a
 * SEND from there is given to tcp_write without the copy (PBUF_ROM pbufs
 * pointing into the area) and becomes a run of the area, which the client
 * must not write again until it is released; one from anywhere else is
 * refused (tcp_sock_send: SOCK_EINVAL).
 *
 * A run is released when every ROM pbuf that lwIP made for it is freed:
 * counted as tcp_write makes them (ld --wrap=pbuf_alloc, while the run is
 * being written) and as they are freed (ld --wrap=memp_free, by the
 * payload's place), whoever frees them: the acknowledgement, the driver's
 * tx-done of a retransmission it still held (the header pbuf it holds
 * keeps the chain), tcp_abort, the connection's end. Bytes are not
 * counted: lwIP's persist timer shortens an unsent ROM pbuf
 * (tcp_split_unsent_seg), and tcp_write lengthens the previous run's last
 * ROM pbuf over the next run's bytes; so the area is given back in its
 * order only (a run's bytes are free once it and every earlier run are),
 * while a socket's share counts its own runs whose pbufs are all freed as
 * free at once, so that a stalled peer's run at the area's tail makes
 * the other sockets copy, never wait.
 */
#include "netstack.h"
#include "socket_service.h"

#include "lwip/memp.h"
#include "lwip/pbuf.h"

void __real_memp_free(memp_t type, void *mem);
struct pbuf *__real_pbuf_alloc(pbuf_layer layer, u16_t length, pbuf_type type);

_Static_assert(SOCK_SEND_AREA_AT + SOCK_SEND_AREA_TAIL + TX_LEND_RUN_MIN <
	       (1u << SOCK_BUFFER_SEND_LOG2), "an area with room for a run");

static struct tx_lend_area lend_areas[TX_LEND_AREAS];
static struct tx_lend_run *writing;     /* the run tcp_write is making pbufs for */

struct tx_lend_area *tx_lend_area_take(uint8_t *buf, uint64_t size)
{
	struct tx_lend_area *free = NULL;

	for (unsigned i = 0; i < TX_LEND_AREAS; i++) {
		struct tx_lend_area *a = &lend_areas[i];
		if (a->base == buf + SOCK_SEND_AREA_AT) {
			free = a;       /* this buffer's, not busy (session_open) */
			break;
		}
		if (!a->base && !free)
			free = a;
	}
	/* proto/socket.h's layout: the client's SOCK_SEND_AREA_AT bytes,
	 * the area, the client's SOCK_SEND_AREA_TAIL bytes. */
	if (free)
		*free = (struct tx_lend_area){ .base = buf + SOCK_SEND_AREA_AT,
					       .size = (uint32_t)(size - SOCK_SEND_AREA_AT -
								  SOCK_SEND_AREA_TAIL) };
	return free;
}

bool tx_lend_busy(const struct tx_lend_area *a)
{
	return a && a->head != a->tail;
}

static uint32_t run_end(const struct tx_lend_run *r)
{
	return r->at + r->len;
}

/* The area's next free run for s: [*at, *at + return) of the area. */
static uint32_t free_run(const struct tx_lend_area *a, const struct sock *s, uint32_t *at)
{
	uint32_t len;

	if (a->head - a->tail == TX_LEND_RUNS || s->tx_lent >= a->size)
		return 0;
	if (a->head == a->tail) {
		*at = 0;
		len = a->size;
	} else {
		uint32_t tail = a->runs[a->tail % TX_LEND_RUNS].at;
		uint32_t head = run_end(&a->runs[(a->head - 1) % TX_LEND_RUNS]);
		if (head > tail) {
			*at = head;
			len = a->size - head;
			if (len < TX_LEND_RUN_MIN) {
				*at = 0;
				len = tail;
			}
		} else {
			*at = head;
			len = tail - head;
		}
	}
	if (len < TX_LEND_RUN_MIN)
		return 0;
	return len < a->size - s->tx_lent ? len : a->size - s->tx_lent;
}

void tx_lend_offer(struct sock *s, uint64_t *out)
{
	struct tx_lend_area *a = s->session->lend_tx;
	uint32_t at = 0, len = a ? free_run(a, s, &at) : 0;

	if (a) {
		a->offer_at = at;
		a->offer_len = len;
	}
	out[0] = len ? SOCK_SEND_AREA_AT + at : 0;
	out[1] = len;
}

struct tx_lend_run *tx_lend_begin(struct sock *s, uint64_t offset, uint64_t len)
{
	struct tx_lend_area *a = s->session->lend_tx;

	if (!a || !a->offer_len || offset != SOCK_SEND_AREA_AT + (uint64_t)a->offer_at ||
	    len > a->offer_len)
		return NULL;
	struct tx_lend_run *r = &a->runs[a->head++ % TX_LEND_RUNS];
	*r = (struct tx_lend_run){ .at = a->offer_at, .len = a->offer_len, .s = s };
	a->offer_len = 0;
	writing = r;
	return r;
}

/* Every run whose pbufs are all freed: its socket's share back; then the
 * area's oldest ones given back. */
static void settle(struct tx_lend_area *a, struct tx_lend_run *r)
{
	if (r->pbufs == r->freed && r != writing && r->s) {
		r->s->tx_lent -= r->len;
		r->s = NULL;
	}
	while (a->head != a->tail) {
		struct tx_lend_run *t = &a->runs[a->tail % TX_LEND_RUNS];
		if (t->pbufs != t->freed || t == writing)
			break;
		a->tail++;
	}
}

void tx_lend_end(struct sock *s, struct tx_lend_run *r, uint32_t taken)
{
	struct tx_lend_area *a = s->session->lend_tx;

	writing = NULL;
	if (!taken && r == &a->runs[(a->head - 1) % TX_LEND_RUNS] && r->pbufs == r->freed) {
		a->head--;      /* nothing of it kept: the offer stands again */
		a->offer_len = r->len;
		return;
	}
	r->len = taken;
	s->tx_lent += taken;
	settle(a, r);
}

void tx_lend_forget(struct sock *s)
{
	struct tx_lend_area *a = s->session->lend_tx;

	if (!a)
		return;
	for (uint32_t i = a->tail; i != a->head; i++)
		if (a->runs[i % TX_LEND_RUNS].s == s)
			a->runs[i % TX_LEND_RUNS].s = NULL;
	s->tx_lent = 0;
}

struct pbuf *__wrap_pbuf_alloc(pbuf_layer layer, u16_t length, pbuf_type type)
{
	struct pbuf *p = __real_pbuf_alloc(layer, length, type);

	if (p && writing && type == PBUF_ROM)
		writing->pbufs++;
	return p;
}

void __wrap_memp_free(memp_t type, void *mem)
{
	const struct pbuf *p = mem;

	if (type == MEMP_PBUF && p && p->type_internal == (u8_t)PBUF_ROM) {
		const uint8_t *at = p->payload;
		if (writing) {
			writing->freed++;       /* tcp_write's own, on its failure */
		} else {
			for (unsigned i = 0; i < TX_LEND_AREAS; i++) {
				struct tx_lend_area *a = &lend_areas[i];
				if (!a->base || at < a->base || at >= a->base + a->size)
					continue;
				uint32_t off = (uint32_t)(at - a->base);
				for (uint32_t k = a->tail; k != a->head; k++) {
					struct tx_lend_run *r = &a->runs[k % TX_LEND_RUNS];
					if (off >= r->at && off < run_end(r)) {
						r->freed++;
						settle(a, r);
						break;
					}
				}
				break;
			}
		}
	}
	__real_memp_free(type, mem);
}
