/*
 * kp_slab.h — a region of equal-sized blocks in transparent huge pages,
 * for memory a run touches densely and keeps reusing (the producer's
 * batch buffers, the checker's window blocks).
 *
 * What it is for: a fresh malloc'd block is written page by page, one
 * page fault per 4 KB (a quarter of a fault-injection run's time was such
 * faults). A slab reserves address space for `cap` blocks at once (mmap
 * MAP_NORESERVE: a page costs memory only once written), aligned to 2 MB
 * and advised MADV_HUGEPAGE (one fault per 2 MB where the kernel agrees),
 * carves blocks in order and keeps the blocks its user lets go of on a
 * spare stack, handed out again first, so the pages touched stay the ones
 * touched before.
 *
 * Memory: the slab owns the region (kp_slab_destroy unmaps it); a block
 * taken is the caller's until kp_slab_put. A spare block's first
 * sizeof(void *) bytes link the stack; the rest keep what was in them
 * (the caller initialises a block it takes). kp_slab is a plain value
 * embedded by its user, zeroed = no slab.
 *
 * Invariants: blocks never overlap; used <= cap; a block is either
 * carved and held by the caller, or on the spare stack. Sanitizer builds
 * have no slab (kp_slab_init returns false, every take NULL): there each
 * block is its own malloc, so an overrun is caught at its own end.
 * Not thread-safe.
 */
#ifndef KP_SLAB_H
#define KP_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct kp_slab {
    uint8_t *base;  /* NULL: no slab */
    uint8_t *spare; /* stack of blocks let go of, linked through their first bytes */
    size_t size;    /* bytes per block */
    size_t cap;     /* blocks the region holds */
    size_t used;    /* blocks carved so far */
    void *map;      /* the mapping (base is map rounded up to 2 MB) */
    size_t map_len;
} kp_slab;

/* Reserves room for cap blocks of size bytes (size >= sizeof(void *)).
 * False, with *s left without a slab, in a sanitizer build, for a size
 * below a pointer or cap 0, or when mmap refuses. */
bool kp_slab_init(kp_slab *s, size_t size, size_t cap);
void kp_slab_destroy(kp_slab *s); /* a zeroed or failed slab is fine */

/* A block let go of before, or NULL. */
static inline void *kp_slab_pop_spare(kp_slab *s) {
    uint8_t *b = s->spare;
    if (b)
        memcpy(&s->spare, b, sizeof s->spare);
    return b;
}

/* A block: a spare one first, else the next one carved; NULL when the
 * slab is full or there is none. */
static inline void *kp_slab_take(kp_slab *s) {
    void *b = kp_slab_pop_spare(s);
    if (b)
        return b;
    if (s->used < s->cap)
        return s->base + s->used++ * s->size;
    return NULL;
}

/* True when p is a block of this slab. */
static inline bool kp_slab_holds(const kp_slab *s, const void *p) {
    return s->base && (uintptr_t)p - (uintptr_t)s->base < s->cap * s->size;
}

/* Lets a block of this slab go (kp_slab_holds(s, b)): it is the next one
 * taken. */
static inline void kp_slab_put(kp_slab *s, void *b) {
    memcpy(b, &s->spare, sizeof s->spare);
    s->spare = b;
}

#endif
