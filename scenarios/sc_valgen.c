/*
 * sc_valgen.c — the workload's record values, written incrementally (see
 * sc_valgen.h; the bytes are sc_value_format's).
 */
#include "sc_valgen.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sc_checker.h"

/* cycle[k] = 'a' + 7k % 26, repeated: the letter at position j of a value
 * with sequence number seq is cycle[(j + 15 seq) % 26] (15 is the inverse
 * of 7 mod 26), so the padding is a run of this table. */
static const char sc_cycle[] = "ahovcjqxelszgnubipwdkryfmt" "ahovcjqxelszgnubipwdkryfmt"
                               "ahovcjqxelszgnubipwdkryfmt" "ahovcjqxelszgnubipwdkryfmt"
                               "ahovcjqxelszgnubipwdkryfmt" "ahovcjqxelszgnubipwdkryfmt";
#define SC_CYCLE_RUN (sizeof sc_cycle - 1 - 26) /* longest copy from any start */

/* 15 m % 26 for m = seq % 26 */
static const unsigned char sc_k15[26] = { 0,  15, 4,  19, 8,  23, 12, 1,  16, 5,  20, 9,  24,
                                          13, 2,  17, 6,  21, 10, 25, 14, 3,  18, 7,  22, 11 };

void sc_valgen_init(sc_valgen *g) {
    memset(g, 0, sizeof *g);
    g->seq = -1;
}

void sc_valgen_free(sc_valgen *g) {
    if (!g)
        return;
    free(g->buf);
    free(g->img);
    sc_valgen_init(g);
}

/* The letters of positions [from, to) of a value whose letter at
 * position 0 is cycle[k] (k < 26). */
static void sc_valgen_letters(char *dst, size_t from, size_t to, size_t k) {
    k = (k + from) % 26;
    while (from < to) {
        size_t n = to - from;
        if (n > SC_CYCLE_RUN)
            n = SC_CYCLE_RUN;
        memcpy(dst + from, sc_cycle + k, n);
        from += n;
        k = (k + n) % 26;
    }
}

/* Writes "P:SEQ " into g->head (both numbers >= 0). */
static void sc_valgen_head(sc_valgen *g, int producer, int64_t seq) {
    char tmp[48];
    char *end = tmp + sizeof tmp, *q = end;
    *--q = ' ';
    uint64_t v = (uint64_t)seq;
    do {
        *--q = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char *digits = q;
    *--q = ':';
    v = (uint64_t)producer;
    do {
        *--q = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    g->head_len = (size_t)(end - q);
    assert(g->head_len <= SC_VALGEN_HEAD_MAX);
    g->digits_at = (size_t)(digits - q);
    memcpy(g->head, q, g->head_len);
    /* sc_valgen__take's words for this length (a head is 4..31 bytes; the
     * words serve one of at most 16) */
    size_t h = g->head_len;
    g->inc0 = h - 2 < 8 ? (uint64_t)1 << (8 * (h - 2)) : 0;
    g->inc1 = h - 2 >= 8 && h - 2 < 16 ? (uint64_t)1 << (8 * (h - 10)) : 0;
    g->m0 = h >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * h)) - 1;
    g->m1 = h >= 16 ? ~(uint64_t)0 : h <= 8 ? 0 : ((uint64_t)1 << (8 * (h - 8))) - 1;
    g->seq_mod = (unsigned)((uint64_t)seq % 26);
    g->producer = producer;
    g->seq = seq;
}

/* seq + 1 in place: the last digit goes up, nines carry; false when the
 * carry leaves the top digit (the number gets longer: rebuild). */
static int sc_valgen_increment(sc_valgen *g) {
    char *first = g->head + g->digits_at, *p = g->head + g->head_len - 2;
    while (*p == '9') {
        *p = '0';
        if (p == first)
            return 0;
        p--;
    }
    (*p)++;
    g->seq++;
    g->seq_mod = g->seq_mod == 25 ? 0 : g->seq_mod + 1;
    return 1;
}

/* n bytes (4 <= n <= 32) from src to dst, as two overlapping fixed-size
 * copies (no call, no loop). */
static inline void sc_valgen_copy_head(char *dst, const char *src, size_t n) {
    if (n >= 16) {
        memcpy(dst, src, 16);
        memcpy(dst + n - 16, src + n - 16, 16);
    } else if (n >= 8) {
        memcpy(dst, src, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    }
}

/* Images of at least `need` letters each (every image all letters). */
static void sc_valgen_images(sc_valgen *g, size_t need) {
    size_t stride = g->stride ? g->stride * 2 : 128;
    while (stride < need)
        stride *= 2;
    char *img = malloc(26 * stride);
    if (!img)
        abort();
    free(g->img);
    g->img = img;
    g->stride = stride;
    for (unsigned m = 0; m < 26; m++) {
        sc_valgen_letters(img + m * stride, 0, stride, sc_k15[m]);
        g->img_head[m] = 0;
    }
}

const char *sc_valgen_next_slow(sc_valgen *g, int producer, int64_t seq, size_t size, size_t *len) {
    if (producer < 0 || seq < 0) { /* not a workload's; the general formatter */
        if (g->cap < size + 64) {
            char *n = realloc(g->buf, size + 64);
            if (!n)
                abort();
            g->buf = n;
            g->cap = size + 64;
        }
        g->seq = -1;
        *len = sc_value_format(g->buf, g->cap, producer, seq, size);
        return g->buf;
    }
    /* the next seq (seq - 1, not g->seq + 1, which overflows at INT64_MAX),
     * or the same again: the head is reused */
    if (!(g->seq >= 0 && producer == g->producer && seq - 1 == g->seq && sc_valgen_increment(g)) &&
        !(g->seq == seq && producer == g->producer))
        sc_valgen_head(g, producer, seq);
    size_t h = g->head_len, n = size > h ? size : h;
    if (n <= SC_VALGEN_IMAGE_MAX) {
        if (n > g->stride)
            sc_valgen_images(g, n);
        unsigned m = g->seq_mod;
        char *v = g->img + m * g->stride;
        if (g->img_head[m] > h) /* a longer head was here: its letters back */
            sc_valgen_letters(v, h, g->img_head[m], sc_k15[m]);
        g->img_head[m] = (uint8_t)h;
        sc_valgen_copy_head(v, g->head, h);
        *len = n;
        return v;
    }
    if (g->cap < n + 64) {
        char *b = realloc(g->buf, n + 64);
        if (!b)
            abort();
        g->buf = b;
        g->cap = n + 64;
    }
    memcpy(g->buf, g->head, h);
    sc_valgen_letters(g->buf, h, n, sc_k15[g->seq_mod]);
    *len = n;
    return g->buf;
}

/* v: the value just returned, n its length. */
uint32_t sc_valgen_rest_slow(sc_valgen *g, const char *v, size_t n) {
    _Static_assert(SC_KV_HEAD == 16, "sc_valgen_next_rest's test names the head's length");
    unsigned m = g->seq_mod;
    bool image = g->seq >= 0 && g->img && v == g->img + m * g->stride && g->head_len <= SC_KV_HEAD &&
                 n <= SC_VALGEN_IMAGE_MAX;
    if (image && g->rest_len[m] == n)
        return g->rest[m];
    uint32_t r = sc_kv_hash_rest((kp_slice){ (const uint8_t *)v, (int32_t)n });
    if (image) {
        g->rest[m] = r;
        g->rest_len[m] = (uint32_t)n;
    }
    return r;
}
