/*
 * kp_arena.h — a bump allocator in chunks, bounded by a maximum total.
 *
 * Why: a decoded Kafka message is a tree of small arrays (topics, their
 * partitions, their replica lists). Giving each a malloc would cost a call
 * per element on the hot path and a free-walker per message type. Instead
 * every decoder takes a kp_arena: arrays are bumped out of it, strings and
 * byte fields stay zero-copy kp_slices into the input buffer, and the whole
 * message is dropped at once with kp_arena_reset().
 *
 * Bound: an arena never holds more than `max_total` bytes of chunks. A
 * hostile frame that claims millions of partitions therefore meets a NULL
 * (the decoders turn it into KP_ERR__NOMEM) instead of exhausting memory.
 * kp_rd_array_len() already rejects counts the input could not describe;
 * the arena bound is the second wall.
 *
 * Ownership: the caller owns the arena (kp_arena_new / kp_arena_destroy).
 * Everything allocated from it is owned by the arena and stays valid until
 * the next kp_arena_reset() or kp_arena_destroy(). Reset keeps the chunks
 * for reuse (no free, no malloc on the next message of similar shape).
 *
 * Invariants:
 *   - every returned pointer is aligned for any object (max_align_t);
 *   - every returned block is zero-filled (decoded structs never carry
 *     uninitialised padding into traces or hashes);
 *   - reserved (sum of chunk capacities) <= max_total at all times;
 *   - kp_arena_alloc(a, 0) returns a non-NULL pointer that must not be
 *     dereferenced (so "no error" and "empty" stay distinguishable).
 *
 * Not thread-safe; one arena per connection / decoder is the intended use.
 */
#ifndef KP_ARENA_H
#define KP_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct kp_arena kp_arena;

#define KP_ARENA_DEFAULT_CHUNK 4096u
#define KP_ARENA_DEFAULT_MAX   (64u * 1024u * 1024u)

/* chunk_size: size of an ordinary chunk (0 = KP_ARENA_DEFAULT_CHUNK);
 * larger requests get a chunk of their own. max_total: bound on all chunk
 * memory together (0 = KP_ARENA_DEFAULT_MAX). Returns NULL if malloc fails. */
kp_arena *kp_arena_new(size_t chunk_size, size_t max_total);

/* Frees every chunk and the arena. Accepts NULL. */
void kp_arena_destroy(kp_arena *a);

/* Forgets every allocation; keeps the chunks for reuse. */
void kp_arena_reset(kp_arena *a);

/* n zero-filled bytes, or NULL when the bound (or malloc) refuses. */
static inline void *kp_arena_alloc(kp_arena *a, size_t n);

/* count * size zero-filled bytes; NULL on overflow of the product too. */
static inline void *kp_arena_calloc(kp_arena *a, size_t count, size_t size);

/* Bytes handed out since the last reset (including alignment padding). */
size_t kp_arena_used(const kp_arena *a);

/* Bytes of chunk memory held (what the bound applies to). */
size_t kp_arena_reserved(const kp_arena *a);

/* ---- inline fast path (the rest is in kp_arena.c) -------------------- */

/* The room left in the chunk being bumped. It is the first member of
 * struct kp_arena (kp_arena.c), so the allocation that fits — nearly every
 * one, a decoded message being a handful of small arrays — is a few
 * instructions here instead of a call; everything else (n == 0, a new
 * chunk, the bound) goes to kp_arena__alloc_slow. Private: only this
 * header and kp_arena.c touch it. */
typedef struct kp_arena__window {
    unsigned char *next; /* next free byte of the current chunk (NULL: none) */
    size_t room;         /* bytes left after next, a multiple of the alignment */
    size_t used;         /* kp_arena_used() */
} kp_arena__window;

#define KP_ARENA__ALIGN ((size_t)_Alignof(max_align_t))

void *kp_arena__alloc_slow(kp_arena *a, size_t n);

static inline void *kp_arena_alloc(kp_arena *a, size_t n) {
    kp_arena__window *w = (kp_arena__window *)(void *)a;
    /* n - 1 < room: n is neither 0 nor larger than the room, so rounding it
     * up cannot overflow and stays within room (room is aligned). The mask
     * changes nothing (a chunk is never that large) but tells the compiler
     * n fits an object, for its memset checks. */
    if (n - 1 < (w->room & (size_t)PTRDIFF_MAX)) {
        size_t need = (n + KP_ARENA__ALIGN - 1) & ~(KP_ARENA__ALIGN - 1);
        unsigned char *p = w->next;
        w->next = p + need;
        w->room -= need;
        w->used += need;
        memset(p, 0, n);
        return p;
    }
    return kp_arena__alloc_slow(a, n);
}

static inline void *kp_arena_calloc(kp_arena *a, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size)
        return NULL;
    return kp_arena_alloc(a, count * size);
}

#endif
