/*
 * siphash.h: SipHash-1-3 (Aumasson and Bernstein), a keyed hash for tables
 * whose keys come from the network: without the key, nobody can choose
 * keys that pile into one bucket. Each table draws its own random key.
 *
 * Not a MAC: one round per word is enough against hash flooding, not for
 * authenticating messages.
 */
#ifndef HUSHD_SIPHASH_H
#define HUSHD_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* Fills key from getrandom(); falls back to the clock and pid without it. */
void siphash_random_key(uint64_t key[2]);

uint64_t siphash13(const uint64_t key[2], const void *buf, size_t len);

#endif
