/*
 * sc_valgen.c — the workload's record values, written incrementally (see
 * sc_valgen.h; the bytes are sc_value_format's).
 */
#include "sc_valgen.h"

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
    sc_valgen_init(g);
}

static void sc_valgen_reserve(sc_valgen *g, size_t need) {
    if (need <= g->cap)
        return;
    char *n = realloc(g->buf, need);
    if (!n)
        abort();
    g->buf = n;
    g->cap = need;
}

/* Writes "P:SEQ " at the start of buf (both numbers >= 0). */
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
    g->head = (size_t)(end - q);
    g->digits_at = (size_t)(digits - q);
    memcpy(g->buf, q, g->head);
    g->head_mod = (unsigned)(g->head % 26);
    g->seq_mod = (unsigned)((uint64_t)seq % 26);
    g->producer = producer;
    g->seq = seq;
}

/* seq + 1 in place: the last digit goes up, nines carry; false when the
 * carry leaves the top digit (the number gets longer: rebuild). */
static int sc_valgen_increment(sc_valgen *g) {
    char *first = g->buf + g->digits_at, *p = g->buf + g->head - 2;
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

const char *sc_valgen_next(sc_valgen *g, int producer, int64_t seq, size_t size, size_t *len) {
    sc_valgen_reserve(g, size + 64);
    if (producer < 0 || seq < 0) { /* not a workload's; the general formatter */
        g->seq = -1;
        *len = sc_value_format(g->buf, g->cap, producer, seq, size);
        return g->buf;
    }
    /* the next seq (seq - 1, not g->seq + 1, which overflows at INT64_MAX),
     * or the same again: the head in buf is reused */
    if (!(g->seq >= 0 && producer == g->producer && seq - 1 == g->seq && sc_valgen_increment(g)) &&
        !(g->seq == seq && producer == g->producer))
        sc_valgen_head(g, producer, seq);
    size_t at = g->head;
    if (size > at) {
        size_t k = g->head_mod + sc_k15[g->seq_mod];
        if (k >= 26)
            k -= 26;
        while (at < size) {
            size_t n = size - at;
            if (n > SC_CYCLE_RUN)
                n = SC_CYCLE_RUN;
            memcpy(g->buf + at, sc_cycle + k, n);
            at += n;
            k = (k + n) % 26;
        }
    }
    *len = at;
    return g->buf;
}
