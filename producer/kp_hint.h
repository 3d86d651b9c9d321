/*
 * kp_hint.h — a lookup hint: where an entry sat in some module's table.
 *
 * What it is for: the send path names a topic (and a partition) by string,
 * and several tables of the producer are keyed by that name (the
 * metadata's topic set, the partitioner's per-topic state, ...). A caller
 * that asks one table about the same key again and again keeps a kp_hint
 * for it: the entry's index and the table's generation when the index was
 * taken. The table answers from the index while its generation is
 * unchanged and falls back to its lookup by name otherwise (then fills the
 * hint in again).
 *
 * Invariant each table keeps for its hints: an index handed out under
 * generation g names the same key for as long as the table's generation
 * is g. Tables that only ever append keep one generation for their life;
 * a table that removes or moves entries bumps its generation when it does
 * (never to 0). A zeroed hint (gen 0) is "unknown" and never matches.
 *
 * A hint belongs to one table of one object: it is plain data, compared
 * and copied by value, owns nothing and is never dereferenced outside
 * that table's own module.
 */
#ifndef KP_HINT_H
#define KP_HINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kp_hint {
    uint32_t gen; /* 0: unknown */
    uint32_t ix;
} kp_hint;

#define KP_HINT_NONE ((kp_hint){ 0, 0 })

/* The hint names entry ix of a table of n entries in generation gen. */
static inline bool kp_hint_hit(const kp_hint *h, uint32_t gen, size_t n) {
    return h && h->gen == gen && (size_t)h->ix < n;
}

static inline void kp_hint_set(kp_hint *h, uint32_t gen, size_t ix) {
    if (h) {
        h->gen = gen;
        h->ix = (uint32_t)ix;
    }
}

#endif
