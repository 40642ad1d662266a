/*
 * The netstack's boot-time secret (guard.c keys its TCP sequence numbers
 * and IP IDs with it; LWIP_RAND is seeded from it): the CPU's random
 * number instructions where CPUID says it has them (RDSEED, else RDRAND),
 * always mixed with the jitter of the time stamp counter around system
 * calls, which is all there is on a CPU without them.
 */
#include "netstack.h"

#include "idgen.h"

#define JITTER_SAMPLES 1024

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

/* One 64-bit value from RDSEED (seed) or RDRAND; false if the CPU did not
 * give one in a few tries. */
static bool hw_random(bool seed, uint64_t *v)
{
	for (int tries = 0; tries < 32; tries++) {
		uint8_t ok;
		if (seed)
			__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
		else
			__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
		if (ok)
			return true;
	}
	return false;
}

/* The time stamp counter's jitter around system calls (their path
 * through the kernel, interrupts, and under emulation the host's
 * scheduling), hashed under two fixed keys. */
static void tsc_jitter(struct idgen_key *k)
{
	static uint64_t samples[JITTER_SAMPLES];
	static const struct idgen_key mix0 = { 0x6d6963612d6a6974ULL, 0x7465722d6b657930ULL };
	static const struct idgen_key mix1 = { 0x6d6963612d6a6974ULL, 0x7465722d6b657931ULL };

	for (unsigned i = 0; i < JITTER_SAMPLES; i++) {
		uint64_t t0 = __builtin_ia32_rdtsc();
		uint64_t clock = (uint64_t)sys_clock();
		samples[i] = (__builtin_ia32_rdtsc() - t0) ^ (clock << 20) ^ t0;
	}
	k->k0 ^= idgen_siphash(&mix0, samples, sizeof(samples));
	k->k1 ^= idgen_siphash(&mix1, samples, sizeof(samples));
}

const char *entropy_key(struct idgen_key *k)
{
	uint32_t r[4];
	bool rdseed = false, rdrand = false;
	uint64_t a, b;

	*k = (struct idgen_key){ 0, 0 };
	cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	cpuid(1, 0, r);
	bool has_rdrand = r[2] & (1u << 30);
	if (max_leaf >= 7) {
		cpuid(7, 0, r);
		if ((r[1] & (1u << 18)) && hw_random(true, &a) && hw_random(true, &b)) {
			k->k0 ^= a;
			k->k1 ^= b;
			rdseed = true;
		}
	}
	if (!rdseed && has_rdrand && hw_random(false, &a) && hw_random(false, &b)) {
		k->k0 ^= a;
		k->k1 ^= b;
		rdrand = true;
	}
	tsc_jitter(k);
	return rdseed ? "RDSEED and TSC jitter" : rdrand ? "RDRAND and TSC jitter" : "TSC jitter";
}
