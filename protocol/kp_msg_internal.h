/*
 * kp_msg_internal.h — helpers shared by the message codecs (kp_msg_*.c and
 * kp_proto.c). Not part of the public API: internal to protocol/ (kp__).
 *
 * Decoder pattern (every kp_*_decode follows it):
 *
 *     if (!kp__version_ok(version, LO, HI)) return KP_ERR__UNSUPPORTED;
 *     n = kp_rd_array_len(r, MIN_ELEM_SIZE, nullable);  // count vs bytes left
 *     arr = kp__rd_alloc(r, a, n, sizeof *arr);          // NULL for n <= 0
 *     for (i = 0; i < n && !r->err; i++) ...
 *     return kp__rd_finish(r);                           // error or trailing bytes
 *
 * MIN_ELEM_SIZE is the smallest encoding one element can have in that
 * version (an empty string is 2 bytes, an empty array 4), so a count the
 * remaining input cannot hold fails before the arena is asked for memory.
 * The Produce decoders (kp_msg_produce.c: one per request, the hot path)
 * walk a local cursor instead of calling the readers, with the same checks
 * in the same order and the same verdicts; their unit test keeps this
 * pattern's version as the reference to compare against.
 *
 * Encoders assert programmer errors: a version outside the codec's range, a
 * null in a non-nullable string, a negative count in a non-nullable array,
 * a string longer than INT16_MAX.
 */
#ifndef KP_MSG_INTERNAL_H
#define KP_MSG_INTERNAL_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "kp_arena.h"
#include "kp_buf.h"

static inline bool kp__version_ok(int16_t v, int16_t lo, int16_t hi) {
    return v >= lo && v <= hi;
}

/* Zeroed array of n elements for a count just read from the wire; NULL for
 * n <= 0 or once the reader has failed. Arena exhaustion fails the reader
 * with KP_ERR__NOMEM. */
static inline void *kp__rd_alloc(kp_reader *r, kp_arena *a, int32_t n, size_t size) {
    if (r->err || n <= 0)
        return NULL;
    void *p = kp_arena_calloc(a, (size_t)n, size);
    if (!p)
        kp_rd_fail(r, KP_ERR__NOMEM);
    return p;
}

/* The body must end exactly where the input ends: trailing bytes are
 * KP_ERR__BAD_MSG (Kafka's parser would ignore them; we are strict so a
 * length error on either side shows up in tests). */
static inline kp_err kp__rd_finish(kp_reader *r) {
    if (r->err)
        return r->err;
    if (r->p != r->end) {
        kp_rd_fail(r, KP_ERR__BAD_MSG);
        return KP_ERR__BAD_MSG;
    }
    return KP_ERR_NONE;
}

/* [int32] with a non-nullable count. */
static inline int32_t *kp__rd_i32_array(kp_reader *r, kp_arena *a, int32_t *count) {
    int32_t n = kp_rd_array_len(r, 4, false);
    int32_t *v = kp__rd_alloc(r, a, n, sizeof *v);
    for (int32_t i = 0; i < n && !r->err; i++)
        v[i] = kp_rd_i32(r);
    *count = r->err ? 0 : n;
    return r->err ? NULL : v;
}

static inline void kp__wr_str(kp_writer *w, kp_slice s) {
    assert(s.len >= 0 && s.len <= INT16_MAX);
    kp_wr_string(w, s);
}

static inline void kp__wr_nstr(kp_writer *w, kp_slice s) {
    assert(s.len >= -1 && s.len <= INT16_MAX);
    kp_wr_string(w, s);
}

static inline void kp__wr_count(kp_writer *w, int32_t n, bool nullable) {
    assert(n >= (nullable ? -1 : 0));
    kp_wr_array_len(w, n);
}

static inline void kp__wr_i32_array(kp_writer *w, const int32_t *v, int32_t n) {
    kp__wr_count(w, n, false);
    for (int32_t i = 0; i < n; i++)
        kp_wr_i32(w, v[i]);
}

#endif
