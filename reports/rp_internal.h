/*
 * rp_internal.h — what the files of reports/ share and nobody else sees.
 *
 * rp__pool: the memory of an in-memory trace and of a reader's header and
 * summary. A bump allocator in chunks (freed all at once) plus a string
 * interner keyed by the string's CONTENT (FNV-1a hash, open addressing), so a
 * million events naming "sender" hold one copy of it and iteration order
 * never depends on pointer values.
 *
 * Ownership: the pool owns every block and string it returned, until
 * rp__pool_free.
 */
#ifndef RP_INTERNAL_H
#define RP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct rp__pool rp__pool;

rp__pool *rp__pool_new(void);
void rp__pool_free(rp__pool *p); /* accepts NULL */
/* n zero-filled bytes aligned for any object; NULL when malloc fails. */
void *rp__pool_alloc(rp__pool *p, size_t n);
/* The pool's copy of s (one per distinct content). NULL in, NULL out; NULL
 * also when malloc fails and s != NULL — callers check. */
const char *rp__pool_intern(rp__pool *p, const char *s);
/* Same for a string of n bytes that need not be NUL-terminated. */
const char *rp__pool_intern_n(rp__pool *p, const char *s, size_t n);

/* printf into a growable buffer owned by the caller (free(b->p)). */
typedef struct rp__sbuf {
    char *p;
    size_t len, cap;
    int failed; /* allocation failed: content is truncated */
} rp__sbuf;
void rp__sbuf_printf(rp__sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rp__sbuf_putn(rp__sbuf *b, const char *s, size_t n);

#endif
