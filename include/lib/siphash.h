/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed 64-bit hash for tables whose keys come from the network,
 * so that a sender who does not know the key cannot make entries collide
 * (hash flooding). Written from the paper's description; pure logic
 * (lib/siphash.c), unit-tested against the paper's test vector.
 */
#ifndef MICA_LIB_SIPHASH_H
#define MICA_LIB_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_BYTES 16

/* The hash of data[0..len) under key (16 bytes, read little-endian as
 * the paper's k0, k1). */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_BYTES], const void *data, size_t len);

#endif
