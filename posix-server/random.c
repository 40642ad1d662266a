/* The server's random bytes (posix.h): xoshiro256**, seeded once. */
#include "posix.h"

static uint64_t state[4];
static bool seeded;

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next(void)
{
	uint64_t result = rotl(state[1] * 5, 7) * 9, t = state[1] << 17;

	state[2] ^= state[0];
	state[3] ^= state[1];
	state[1] ^= state[2];
	state[0] ^= state[3];
	state[2] ^= t;
	state[3] = rotl(state[3], 45);
	return result;
}

static uint64_t entropy(void)
{
	uint32_t lo, hi, ecx;
	uint64_t r = 0;
	unsigned char ok = 0;

	__asm__ volatile("cpuid" : "=c"(ecx) : "a"(1), "c"(0) : "ebx", "edx");
	if (ecx & (1u << 30))
		__asm__ volatile("rdrand %0; setc %1" : "=r"(r), "=qm"(ok));
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return r ^ ((uint64_t)hi << 32 | lo) ^ (uint64_t)sys_clock();
}

static void seed(void)
{
	/* splitmix64 over the entropy, so that no state word is zero. */
	uint64_t z = entropy();

	for (int i = 0; i < 4; i++) {
		z += 0x9E3779B97F4A7C15ULL;
		uint64_t x = z;
		x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
		x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
		state[i] = x ^ (x >> 31) ^ (i == 3 ? entropy() : 0);
	}
	seeded = true;
}

void random_fill(void *buf, size_t n)
{
	uint8_t *b = buf;

	if (!seeded)
		seed();
	while (n) {
		uint64_t r = next();
		size_t k = n < 8 ? n : 8;
		memcpy(b, &r, k);
		b += k;
		n -= k;
	}
}
