/*
 * sc_le.h — little-endian word loads for the scenarios layer's hashing and
 * parsing (the run digest's string hash, the checker's eight-digits-at-a-
 * time value parser): the value of 8 or 4 bytes at p with the first byte
 * in the low bits, whatever the host's byte order, from any alignment.
 * No memory is owned; p must have the 8 (4) bytes readable.
 */
#ifndef SC_LE_H
#define SC_LE_H

#include <stdint.h>
#include <string.h>

static inline uint64_t sc_le64(const void *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t sc_le32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

#endif
