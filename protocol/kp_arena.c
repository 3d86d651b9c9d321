/*
 * kp_arena.c — bump allocator in chunks. See kp_arena.h for the contract.
 *
 * Layout: a singly linked list of chunks, `cur` is the chunk being bumped.
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
    kp_arena_chunk *head;
    kp_arena_chunk *cur;
    size_t chunk_size;
    size_t max_total;
    size_t reserved; /* sum of cap over the list */
    size_t used;     /* bytes handed out since reset */
};

#define KP_CHUNK_HDR ((sizeof(kp_arena_chunk) + KP_ALIGN - 1) / KP_ALIGN * KP_ALIGN)

/* The answer to a zero-byte request: valid, aligned, never dereferenced. */
static max_align_t kp_arena_empty;

static unsigned char *kp_chunk_data(kp_arena_chunk *c) {
    return (unsigned char *)c + KP_CHUNK_HDR;
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
    a->used = 0;
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

void *kp_arena_alloc(kp_arena *a, size_t n) {
    if (n == 0)
        return &kp_arena_empty;
    if (n > SIZE_MAX - KP_ALIGN)
        return NULL;
    size_t need = (n + KP_ALIGN - 1) / KP_ALIGN * KP_ALIGN;
    for (;;) {
        kp_arena_chunk *c = a->cur;
        if (c && c->cap - c->used >= need) {
            unsigned char *p = kp_chunk_data(c) + c->used;
            c->used += need;
            a->used += need;
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

void *kp_arena_calloc(kp_arena *a, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size)
        return NULL;
    return kp_arena_alloc(a, count * size);
}

size_t kp_arena_used(const kp_arena *a) {
    return a->used;
}

size_t kp_arena_reserved(const kp_arena *a) {
    return a->reserved;
}
