/*
 * rp_pool.c — chunked bump allocator + content-keyed string interner for
 * reports/ (see rp_internal.h), and a small growable string buffer.
 */
#include "rp_internal.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RP_POOL_CHUNK (64u * 1024u)

typedef struct rp__chunk {
    struct rp__chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
} rp__chunk;

struct rp__pool {
    rp__chunk *head;       /* current chunk; big blocks are pushed behind it */
    const char **slots;    /* intern table, NULL = empty */
    uint32_t *hashes;
    size_t n_slots, n_used;
};

rp__pool *rp__pool_new(void) {
    return calloc(1, sizeof(rp__pool));
}

void rp__pool_free(rp__pool *p) {
    if (!p)
        return;
    for (rp__chunk *c = p->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(p->slots);
    free(p->hashes);
    free(p);
}

void *rp__pool_alloc(rp__pool *p, size_t n) {
    const size_t al = alignof(max_align_t);
    size_t need = (n + al - 1) / al * al;
    if (need < n)
        return NULL;
    if (need == 0)
        need = al;
    rp__chunk *c = p->head;
    if (c && c->cap - c->used >= need) {
        void *r = c->data + c->used;
        c->used += need;
        return r; /* chunks are calloc'ed and never reused: already zero */
    }
    if (need > RP_POOL_CHUNK / 4) { /* a block of its own, behind the head */
        rp__chunk *b = calloc(1, sizeof *b + need);
        if (!b)
            return NULL;
        b->cap = b->used = need;
        if (c) {
            b->next = c->next;
            c->next = b;
        } else {
            p->head = b;
        }
        return b->data;
    }
    rp__chunk *nc = calloc(1, sizeof *nc + RP_POOL_CHUNK);
    if (!nc)
        return NULL;
    nc->cap = RP_POOL_CHUNK;
    nc->used = need;
    nc->next = c;
    p->head = nc;
    return nc->data;
}

static uint32_t rp_fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static int rp_pool_grow(rp__pool *p) {
    size_t n = p->n_slots ? p->n_slots * 2 : 256;
    const char **slots = calloc(n, sizeof *slots);
    uint32_t *hashes = calloc(n, sizeof *hashes);
    if (!slots || !hashes) {
        free(slots);
        free(hashes);
        return -1;
    }
    for (size_t i = 0; i < p->n_slots; i++) {
        if (!p->slots[i])
            continue;
        size_t j = p->hashes[i] & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = p->slots[i];
        hashes[j] = p->hashes[i];
    }
    free(p->slots);
    free(p->hashes);
    p->slots = slots;
    p->hashes = hashes;
    p->n_slots = n;
    return 0;
}

const char *rp__pool_intern_n(rp__pool *p, const char *s, size_t n) {
    if (!s)
        return NULL;
    if ((p->n_used + 1) * 2 > p->n_slots && rp_pool_grow(p))
        return NULL;
    uint32_t h = rp_fnv1a(s, n);
    size_t j = h & (p->n_slots - 1);
    while (p->slots[j]) {
        if (p->hashes[j] == h && strncmp(p->slots[j], s, n) == 0 && p->slots[j][n] == '\0')
            return p->slots[j];
        j = (j + 1) & (p->n_slots - 1);
    }
    char *copy = rp__pool_alloc(p, n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    p->slots[j] = copy;
    p->hashes[j] = h;
    p->n_used++;
    return copy;
}

const char *rp__pool_intern(rp__pool *p, const char *s) {
    return s ? rp__pool_intern_n(p, s, strlen(s)) : NULL;
}

/* ---- sbuf -------------------------------------------------------------- */

static int rp_sbuf_reserve(rp__sbuf *b, size_t more) {
    if (b->failed)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) {
        b->failed = 1;
        return -1;
    }
    b->p = np;
    b->cap = cap;
    return 0;
}

void rp__sbuf_putn(rp__sbuf *b, const char *s, size_t n) {
    if (rp_sbuf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void rp__sbuf_printf(rp__sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || rp_sbuf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- imap ------------------------------------------------------------------ */

static uint64_t rp_mix64(int64_t k) {
    uint64_t x = (uint64_t)k;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int rp_imap_grow(rp__imap *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    rp__imap n = {calloc(cap, sizeof(int64_t)), calloc(cap, sizeof(size_t)), calloc(cap, 1), 0,
                  cap};
    if (!n.keys || !n.vals || !n.used) {
        rp__imap_free(&n);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i])
            rp__imap_put(&n, m->keys[i], m->vals[i]);
    rp__imap_free(m);
    *m = n;
    return 0;
}

int rp__imap_put(rp__imap *m, int64_t key, size_t val) {
    if ((m->n + 1) * 2 > m->cap && rp_imap_grow(m))
        return -1;
    size_t j = rp_mix64(key) & (m->cap - 1);
    while (m->used[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->used[j]) {
        m->used[j] = 1;
        m->keys[j] = key;
        m->n++;
    }
    m->vals[j] = val;
    return 0;
}

int rp__imap_get(const rp__imap *m, int64_t key, size_t *val) {
    if (!m->cap)
        return 0;
    size_t j = rp_mix64(key) & (m->cap - 1);
    while (m->used[j]) {
        if (m->keys[j] == key) {
            *val = m->vals[j];
            return 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

void rp__imap_free(rp__imap *m) {
    free(m->keys);
    free(m->vals);
    free(m->used);
    m->keys = NULL;
    m->vals = NULL;
    m->used = NULL;
    m->n = m->cap = 0;
}
