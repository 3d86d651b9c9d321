/*
 * sc_valgen.h — the workload's record values, written incrementally.
 *
 * Every value a workload sends is sc_value_format(producer, seq, size)
 * (sc_checker.h): the record's identity "P:SEQ " and then a letter pattern
 * that depends on the position and on seq, so the checker can tell which
 * send a log record is and whether its bytes are intact. The application
 * actor formats one per record, in increasing seq order. sc_valgen writes
 * the same bytes without redoing the work that does not change from one
 * record to the next:
 *   - the head "P:SEQ " is kept on its own; for seq + 1 its decimal digits
 *     are incremented in place (a carry out of the top digit rebuilds it);
 *   - the letter at position j is a function of j and seq % 26 alone (not
 *     of the head's length), so the generator keeps 26 images of a value,
 *     image m holding the letters of every seq = m (mod 26) from position
 *     0 on; a value is its image with the head written over its start
 *     (a few word stores, and the letters the previous, longer head of
 *     that image covered put back). No padding is copied per record.
 *   - values longer than SC_VALGEN_IMAGE_MAX (26 images would be too much
 *     memory) are written in one buffer: the head, then the padding copied
 *     from the letter cycle.
 *   - the checker's hash of a value starts with the CRC of its bytes after
 *     the first 16 (sc_kv_hash_rest), the same for every value of image m
 *     and length n whose head is at most 16 bytes: kept per image
 *     (sc_valgen_next_rest), so a send hashes 16 bytes of its value, not
 *     100 (callgrind, throughput, 20,000 records: 51.61M -> 51.03M Ir).
 * Any other seq (a jump, a new producer number) rebuilds the head, so the
 * bytes never depend on the order of calls; a unit test compares them with
 * sc_value_format for every seq of long runs, across digit-count changes,
 * sizes and jumps.
 *
 * Measured (callgrind, throughput workload, 20,000 records): sc_value_format
 * was 4.0M Ir (200 per record) before this generator; the head plus a
 * padding copy per record were 2.34M (117 per record) before the images.
 *
 * Memory: the generator owns its buffers: up to 26 images of the longest
 * value up to SC_VALGEN_IMAGE_MAX bytes (plus 64), and one buffer for the
 * longer ones (grown as needed); the pointer sc_valgen_next returns is
 * valid until the next call or sc_valgen_free.
 */
#ifndef SC_VALGEN_H
#define SC_VALGEN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SC_VALGEN_IMAGE_MAX 4096 /* longest value written from an image */
#define SC_VALGEN_HEAD_MAX 32    /* "P:SEQ " of any int and int64 >= 0 fits */

typedef struct sc_valgen {
    char *buf;           /* values too long for an image */
    size_t cap;
    char *img;           /* 26 images, image m at img + m * stride */
    size_t stride;       /* letters held per image (every value up to it) */
    uint8_t img_head[26];/* bytes at the start of image m that hold a head */
    char head[SC_VALGEN_HEAD_MAX]; /* "P:SEQ " of (producer, seq) */
    int producer;        /* of the head */
    int64_t seq;         /* of the head; -1: no head yet */
    size_t head_len;     /* length of "P:SEQ " */
    size_t digits_at;    /* where SEQ's digits start in head */
    unsigned seq_mod;    /* seq % 26 */
    /* for a head of at most 16 bytes (set with it, sc_valgen_head): what
     * the common case adds to the head's two words to bump its last digit,
     * and the masks of the head's bytes in the value's first two words */
    uint64_t inc0, inc1, m0, m1;
    uint32_t rest[26];   /* sc_kv_hash_rest of image m's value of rest_len[m] bytes */
    uint32_t rest_len[26]; /* 0: none kept */
} sc_valgen;

void sc_valgen_init(sc_valgen *g);
void sc_valgen_free(sc_valgen *g);

/* The bytes of sc_value_format(buf, cap, producer, seq, size) for a cap
 * large enough: the head "P:SEQ " then the pattern up to `size` bytes (a
 * value is never shorter than its head). *len receives the length. Aborts
 * when memory runs out (the workload cannot go on without its values). */
const char *sc_valgen_next_slow(sc_valgen *g, int producer, int64_t seq, size_t size, size_t *len);

/* sc_valgen_next's common case inline (the workload's next seq, no carry
 * out of the last digit, a value that fits the images, an image whose
 * head has this length): the last digit goes up and the head is written
 * over the image (a head is 4..31 bytes: two overlapping copies of 4, 8
 * or 16 bytes). Anything else is sc_valgen_next_slow, the same
 * bytes. */
/* The common case's stores: the last digit up (it is not '9': no carry),
 * the head over image m. The digit is bumped in a register, not in memory
 * first, and a head of at most 16 bytes goes out as the value's first 16
 * bytes in two 8-byte words (the head's bytes, then the image's own
 * letters after it): the checker's kv hash reads exactly those two words
 * next, and a load is forwarded from the store buffer only when one
 * earlier store covers all of it. The former byte increment read back
 * at once by a wider load, and the two overlapping head copies under the
 * hash's loads, each made the load wait for the stores to reach the
 * cache (perf, throughput 1M records: 46% of sc_app_send_one's samples
 * on the first, 70% of sc_kv_from_hw's on the second). */
static inline const char *sc_valgen__take(sc_valgen *g, int64_t seq, unsigned m, size_t h, size_t n, size_t *len) {
    g->seq = seq;
    g->seq_mod = m;
    char *v = g->img + m * g->stride;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (h <= 16) {
        /* words 0 and 1 of the head (its buffer is 32 bytes) and of the
         * image (stride >= 128): byte i from the head for i < h */
        /* the increment and the masks were worked out with the head
         * (they depend on h alone) */
        uint64_t h0, h1, v0, v1;
        memcpy(&h0, g->head, 8);
        memcpy(&h1, g->head + 8, 8);
        memcpy(&v0, v, 8);
        memcpy(&v1, v + 8, 8);
        h0 += g->inc0;
        h1 += g->inc1;
        memcpy(g->head, &h0, 8);
        memcpy(g->head + 8, &h1, 8);
        v0 ^= (v0 ^ h0) & g->m0;
        v1 ^= (v1 ^ h1) & g->m1;
        memcpy(v, &v0, 8);
        memcpy(v + 8, &v1, 8);
        *len = n;
        return v;
    }
#endif
    /* longer heads (a producer number of 8+ digits), big-endian hosts */
    g->head[h - 2]++;
    if (h >= 16) {
        memcpy(v, g->head, 16);
        memcpy(v + h - 16, g->head + h - 16, 16);
    } else if (h >= 8) {
        memcpy(v, g->head, 8);
        memcpy(v + h - 8, g->head + h - 8, 8);
    } else {
        memcpy(v, g->head, 4);
        memcpy(v + h - 4, g->head + h - 4, 4);
    }
    *len = n;
    return v;
}

static inline const char *sc_valgen_next(sc_valgen *g, int producer, int64_t seq, size_t size, size_t *len) {
    size_t h = g->head_len, n = size > h ? size : h;
    unsigned m = g->seq_mod + 1 == 26 ? 0 : g->seq_mod + 1;
    if (producer == g->producer && g->seq >= 0 && seq - 1 == g->seq && n <= g->stride &&
        g->head[h - 2] != '9' && g->img_head[m] == h)
        return sc_valgen__take(g, seq, m, h, n, len);
    return sc_valgen_next_slow(g, producer, seq, size, len);
}

/* sc_valgen_next, and in *rest sc_kv_hash_rest (sc_checker.h) of the
 * value: the CRC of its bytes after the first SC_KV_HEAD, which for a value
 * written in image m with a head of at most SC_KV_HEAD bytes are the
 * image's letters alone, a function of (m, n). It is kept per image for
 * the last length asked, so the sender hashes only a value's head per
 * record; any other value's rest is hashed. */
uint32_t sc_valgen_rest_slow(sc_valgen *g, const char *v, size_t n);
static inline const char *sc_valgen_next_rest(sc_valgen *g, int producer, int64_t seq, size_t size, size_t *len,
                                              uint32_t *rest) {
    size_t h = g->head_len, n = size > h ? size : h;
    unsigned m = g->seq_mod + 1 == 26 ? 0 : g->seq_mod + 1;
    if (producer == g->producer && g->seq >= 0 && seq - 1 == g->seq && n <= g->stride &&
        g->head[h - 2] != '9' && g->img_head[m] == h) {
        if (h <= 16 /* SC_KV_HEAD */ && g->rest_len[m] == n) {
            *rest = g->rest[m];
            return sc_valgen__take(g, seq, m, h, n, len);
        }
        const char *v = sc_valgen__take(g, seq, m, h, n, len);
        *rest = sc_valgen_rest_slow(g, v, n);
        return v;
    }
    const char *v = sc_valgen_next_slow(g, producer, seq, size, len);
    *rest = sc_valgen_rest_slow(g, v, *len);
    return v;
}

#endif
