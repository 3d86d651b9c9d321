/*
 * kp_arena.c — bump allocator in chunks. See kp_arena.h for the contract.
 *
 * Layout: a singly linked list of chunks, `cur` is the chunk being bumped.
 * Its free room is mirrored in `win` (kp_arena.h's inline fast path bumps
 * win.next and never touches the chunk): `cur->used` is brought up to date
 * from the window whenever the slow path or a reset looks at the chunks,
 * and the window is set again from `cur` afterwards.
 * Chunks after `cur` are untouched since the last reset; moving to one
 * clears its `used`. A chunk after `cur` that is too small for the current
 * request is freed on the spot, so a run of differently shaped messages
 * cannot accumulate unusable chunks up to the bound.
 *
 *   chunk:  OFFSET        SIZE   DESCRIPTION
 *           0             hdr    next, cap, used (padded to KP_ALIGN)
 *           hdr           cap    data, bumped from 0 upwards
 */
#include "kp_arena.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KP_ALIGN (_Alignof(max_align_t))

typedef struct kp_arena_chunk {
    struct kp_arena_chunk *next;
    size_t cap;  /* data bytes */
    size_t used; /* data bytes handed out */
} kp_arena_chunk;

struct kp_arena {
    kp_arena__window win; /* first member: kp_arena.h reads it */
    kp_arena_chunk *head;
    kp_arena_chunk *cur;
    size_t chunk_size;
    size_t max_total;
    size_t reserved; /* sum of cap over the list */
};

#define KP_CHUNK_HDR ((sizeof(kp_arena_chunk) + KP_ALIGN - 1) / KP_ALIGN * KP_ALIGN)

/* The answer to a zero-byte request: valid, aligned, never dereferenced. */
static max_align_t kp_arena_empty;

static unsigned char *kp_chunk_data(kp_arena_chunk *c) {
    return (unsigned char *)c + KP_CHUNK_HDR;
}

/* The window over cur's free room, rounded down to the alignment so that
 * any n that fits rounds up within it. */
static void kp_arena_window_set(kp_arena *a) {
    kp_arena_chunk *c = a->cur;
    if (!c) {
        a->win.next = NULL;
        a->win.room = 0;
        return;
    }
    a->win.next = kp_chunk_data(c) + c->used;
    a->win.room = (c->cap - c->used) / KP_ALIGN * KP_ALIGN;
}

/* cur->used from the window (the fast path only moved win.next). */
static void kp_arena_window_sync(kp_arena *a) {
    if (a->cur)
        a->cur->used = (size_t)(a->win.next - kp_chunk_data(a->cur));
}

kp_arena *kp_arena_new(size_t chunk_size, size_t max_total) {
    kp_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->chunk_size = chunk_size ? chunk_size : KP_ARENA_DEFAULT_CHUNK;
    a->max_total = max_total ? max_total : KP_ARENA_DEFAULT_MAX;
    return a;
}

void kp_arena_destroy(kp_arena *a) {
    if (!a)
        return;
    kp_arena_chunk *c = a->head;
    while (c) {
        kp_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

void kp_arena_reset(kp_arena *a) {
    a->cur = a->head;
    if (a->cur)
        a->cur->used = 0;
    a->win.used = 0;
    kp_arena_window_set(a);
}

/* Appends a chunk of at least `need` bytes after `cur`; NULL past the bound. */
static kp_arena_chunk *kp_arena_grow(kp_arena *a, size_t need) {
    size_t room = a->max_total - a->reserved;
    size_t cap = need > a->chunk_size ? need : a->chunk_size;
    if (cap > room)
        cap = need; /* an ordinary chunk no longer fits; an exact one may */
    if (cap > room || cap > SIZE_MAX - KP_CHUNK_HDR)
        return NULL;
    kp_arena_chunk *c = malloc(KP_CHUNK_HDR + cap);
    if (!c)
        return NULL;
    c->cap = cap;
    c->used = 0;
    if (a->cur) {
        c->next = a->cur->next;
        a->cur->next = c;
    } else {
        c->next = a->head;
        a->head = c;
    }
    a->reserved += cap;
    return c;
}

/* The chunk walk behind kp_arena__alloc_slow: cur->used is up to date
 * on entry; the caller sets the window from cur afterwards. */
static void *kp_arena_alloc_chunks(kp_arena *a, size_t n) {
    if (n > SIZE_MAX - KP_ALIGN)
        return NULL;
    size_t need = (n + KP_ALIGN - 1) / KP_ALIGN * KP_ALIGN;
    for (;;) {
        kp_arena_chunk *c = a->cur;
        if (c && c->cap - c->used >= need) {
            unsigned char *p = kp_chunk_data(c) + c->used;
            c->used += need;
            a->win.used += need;
            memset(p, 0, n);
            return p;
        }
        kp_arena_chunk *next = c ? c->next : a->head;
        if (next && next->cap >= need) {
            next->used = 0;
            a->cur = next;
            continue;
        }
        if (next) { /* unused since reset and too small: give it back */
            assert(c); /* cur is NULL only while there are no chunks at all */
            c->next = next->next;
            a->reserved -= next->cap;
            free(next);
            continue;
        }
        kp_arena_chunk *fresh = kp_arena_grow(a, need);
        if (!fresh)
            return NULL;
        a->cur = fresh;
    }
}

/* Whatever the inline kp_arena_alloc does not take: n == 0, a request
 * larger than the window (a later chunk, a new one, or the bound). */
void *kp_arena__alloc_slow(kp_arena *a, size_t n) {
    if (n == 0)
        return &kp_arena_empty;
    kp_arena_window_sync(a);
    void *p = kp_arena_alloc_chunks(a, n);
    kp_arena_window_set(a); /* cur may have moved, even on failure */
    return p;
}

size_t kp_arena_used(const kp_arena *a) {
    return a->win.used;
}

size_t kp_arena_reserved(const kp_arena *a) {
    return a->reserved;
}
