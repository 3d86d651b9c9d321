/*
 * kp_crc32c.h — CRC32C (Castagnoli), the checksum of RecordBatch v2.
 *
 * Kafka's Crc32C: reflected polynomial 0x82F63B78, initial value and final
 * xor 0xFFFFFFFF. A RecordBatch carries the CRC32C of its bytes from the
 * attributes field (offset 21) to the end (see kp_record_batch.h).
 *
 * Chaining: the `crc` argument is a finished CRC (0 for "no data yet"), so
 *
 *     kp_crc32c(kp_crc32c(0, a, n), b, m) == kp_crc32c(0, a||b, n + m)
 *
 * which is what Java's Checksum.update(a); update(b); getValue() gives.
 *
 * Two implementations compute the same function:
 *   kp_crc32c_sw  slicing-by-8 tables, any CPU;
 *   kp_crc32c_hw  the SSE4.2 `crc32` instruction (x86-64 only), three
 *                 interleaved streams on long inputs, recombined with
 *                 "shift by n zero bytes" tables (Mark Adler's crc32c.c
 *                 technique, our own code); inputs of 72 to 24,575 bytes,
 *                 when the CPU has PCLMULQDQ too, as three streams of a
 *                 third each joined by carry-less multiplications.
 * kp_crc32c picks hw when the CPU reports SSE4.2 at run time, else sw.
 * Tests call both directly.
 *
 * Memory: nothing is allocated; the lookup tables are static and filled
 * once before main (a constructor) or on the first call, whichever is first.
 * Thread-safe after that first fill (the tables are read-only afterwards).
 */
#ifndef KP_CRC32C_H
#define KP_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC32C of data[0..len) continuing from the finished CRC `crc` (0 to
 * start). data may be NULL when len == 0. */
uint32_t kp_crc32c(uint32_t crc, const void *data, size_t len);

/* The table implementation (always available). */
uint32_t kp_crc32c_sw(uint32_t crc, const void *data, size_t len);

/* The SSE4.2 implementation. When kp_crc32c_hw_available() is false it
 * computes the same value with the table code, so calling it is always
 * safe; tests that mean to exercise the instruction check availability. */
uint32_t kp_crc32c_hw(uint32_t crc, const void *data, size_t len);
bool kp_crc32c_hw_available(void);

/* "sse4.2" or "slicing-by-8": what kp_crc32c uses on this machine. */
const char *kp_crc32c_impl_name(void);

/* CRC of A||B from crc(A), crc(B) and len(B), like zlib's crc32_combine. */
uint32_t kp_crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);

#endif
