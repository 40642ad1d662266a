/*
 * How an IPv4 fragment fits the fragments of its datagram already held,
 * as Linux judges it (net/ipv4/ip_fragment.c, ip_frag_queue, and
 * net/ipv4/inet_fragment.c, inet_frag_queue_insert, since 4.19; RFC 5722
 * section 4 with erratum 3089, which Linux applies to IPv4 too). Pure
 * logic, unit-tested on the host; reassembly.c acts on it.
 */
#ifndef MICA_NETSTACK_FRAG_FIT_H
#define MICA_NETSTACK_FRAG_FIT_H

#include <stdbool.h>

/* A fragment's data: bytes [start, end) of the datagram's payload. */
struct frag_range {
	unsigned start, end;
};

/* FRAG_NEW: take it; FRAG_DUPLICATE: drop it alone (it lies inside data
 * held); FRAG_OVERLAP: drop the whole datagram (it overlaps data held
 * without lying inside it, is empty, or disagrees with where the
 * datagram ends). */
enum frag_fit { FRAG_NEW, FRAG_DUPLICATE, FRAG_OVERLAP };

/* The fragment [offset, end) (last: the one with MF clear) against the n
 * fragments held, in order of start and not overlapping (a run is those
 * that follow each other without a gap); has_last and length: whether
 * the last fragment came, and the datagram's payload length it gave. */
static inline enum frag_fit frag_fit(const struct frag_range *held, unsigned n, bool has_last,
				     unsigned length, unsigned offset, unsigned end, bool last)
{
	unsigned held_end = 0;
	bool dup = false, overlap = false;

	for (unsigned i = 0; i < n;) {
		unsigned run_start = held[i].start, run_end = held[i].end;
		for (i++; i < n && held[i].start == run_end; i++)
			run_end = held[i].end;
		held_end = run_end > held_end ? run_end : held_end;
		dup |= run_start <= offset && end <= run_end;
		overlap |= offset < run_end && end > run_start;
	}
	/* ip_frag_queue: an empty fragment, a last one ending before data
	 * held or elsewhere than the last one before it, data past the
	 * end a last fragment gave: the queue goes (discard_qp). */
	if (end == offset || (last && (end < held_end || (has_last && end != length))) ||
	    (!last && has_last && end > length))
		return FRAG_OVERLAP;
	if (dup)
		return FRAG_DUPLICATE;
	return overlap ? FRAG_OVERLAP : FRAG_NEW;
}

#endif
