/*
 * kp_buf.h — Kafka wire primitives: a bounded reader and a bounded writer.
 *
 * Why: every decoder in kpsim reads untrusted bytes (a real TCP peer, a
 * fuzzer, a corrupted simulation). The reader never trusts a length: every
 * read checks the bytes remaining first, and an array count is checked
 * against the bytes left before anyone allocates for it.
 *
 * Error model (sticky): the first failure records an error in `err` and
 * every later read returns a zero value without touching memory, so a
 * decoder reads a whole structure and checks `r->err` once at the end.
 * Likewise the writer: writing past `cap` sets `err = KP_ERR__NOMEM` and
 * stops writing but keeps counting `len`, so
 *
 *     kp_writer w; kp_wr_init(&w, NULL, 0);   // sizing pass: counts only
 *     encode(&w, msg);  size_t need = w.len;
 *     kp_wr_init(&w, buf, need); encode(&w, msg); assert(!w.err);
 *
 * gives the size-then-write pair with one encoder.
 *
 * Memory: neither type owns memory. Strings and byte fields returned by the
 * reader point into the reader's input (zero copy) and live as long as it.
 * A writer given a gather list (kp_wr_bytes_ref) leaves large byte fields
 * where they are and lists them instead; the caller then sends or copies
 * the pieces in order while those bytes are still unchanged.
 *
 * Encoding (Kafka protocol guide): integers big-endian; "varint"/"varlong"
 * are zigzag-encoded then unsigned LEB128 (7 bits, low group first, 0x80 =
 * more); a varint longer than 5 bytes or a varlong longer than 10 is
 * malformed. STRING = int16 length + bytes (-1 = null when nullable);
 * BYTES = int32 length + bytes (-1 = null); ARRAY = int32 count (-1 = null).
 */
#ifndef KP_BUF_H
#define KP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kp_err.h"

/* A borrowed slice of bytes or text. len == -1 means null. */
typedef struct kp_slice {
    const uint8_t *ptr;
    int32_t len;
} kp_slice;

#define KP_SLICE_NULL ((kp_slice){ NULL, -1 })
kp_slice kp_slice_str(const char *s); /* NULL -> null slice */
bool kp_slice_eq(kp_slice a, kp_slice b);
bool kp_slice_eq_str(kp_slice a, const char *s);

/* ------------------------------------------------------------------ */
/* Reader                                                              */
/* ------------------------------------------------------------------ */

typedef struct kp_reader {
    const uint8_t *p;   /* next byte */
    const uint8_t *end; /* one past the last byte */
    kp_err err;         /* first error, KP_ERR_NONE while fine */
} kp_reader;

/* The reader's primitives are defined inline at the end of this header
 * (they run once per wire field, on every request of every run). */
static inline void kp_rd_init(kp_reader *r, const void *buf, size_t len);
static inline size_t kp_rd_remaining(const kp_reader *r);
/* Sets err (if not set yet) and returns false. */
static inline bool kp_rd_fail(kp_reader *r, kp_err err);

static inline int8_t kp_rd_i8(kp_reader *r);
static inline int16_t kp_rd_i16(kp_reader *r);
static inline int32_t kp_rd_i32(kp_reader *r);
static inline int64_t kp_rd_i64(kp_reader *r);
static inline uint32_t kp_rd_u32(kp_reader *r);
static inline bool kp_rd_bool(kp_reader *r); /* any non-zero byte is true */
uint32_t kp_rd_uvarint(kp_reader *r);
int32_t kp_rd_varint(kp_reader *r);   /* zigzag */
int64_t kp_rd_varlong(kp_reader *r);  /* zigzag */

/* STRING / NULLABLE_STRING: int16 length. A null string in a non-nullable
 * field is KP_ERR__BAD_MSG. */
static inline kp_slice kp_rd_string(kp_reader *r);
static inline kp_slice kp_rd_nullable_string(kp_reader *r);
/* BYTES / NULLABLE_BYTES: int32 length. */
static inline kp_slice kp_rd_bytes(kp_reader *r);
static inline kp_slice kp_rd_nullable_bytes(kp_reader *r);
/* Raw n bytes. */
static inline const uint8_t *kp_rd_raw(kp_reader *r, size_t n);
static inline void kp_rd_skip(kp_reader *r, size_t n);

/* ARRAY count. Returns the count, -1 for a null array if nullable is true.
 * Fails with KP_ERR__BAD_MSG if count < -1, if null is not allowed, or if
 * count * min_elem_size exceeds the bytes remaining (so a hostile count can
 * never make a caller allocate more than the input could describe). */
static inline int32_t kp_rd_array_len(kp_reader *r, size_t min_elem_size, bool nullable);

/* A sub-reader over the next n bytes, which the parent skips. */
static inline kp_reader kp_rd_sub(kp_reader *r, size_t n);

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

/* A gather list (kp_wr_bytes_ref): byte runs the writer did not copy.
 * Run i belongs right after the first runs[i].at bytes of the writer's
 * own output (`at` never decreases), so the whole output is buf[0, at0),
 * run 0, buf[at0, at1), run 1, ..., buf[at_last, len). Memory: the caller
 * owns the array and the bytes the runs point to; those bytes must stay
 * as they are until the gathered output has been used (written out or
 * copied). The writer only appends entries. */
typedef struct kp_wr_run {
    size_t at;
    const uint8_t *ptr;
    size_t len;
} kp_wr_run;

typedef struct kp_wr_gather {
    kp_wr_run *runs;
    int n, cap;    /* runs used, room in the array */
    size_t bytes;  /* sum of the runs' lengths */
    size_t min;    /* runs shorter than this are copied as usual */
} kp_wr_gather;

typedef struct kp_writer {
    uint8_t *buf;  /* may be NULL for a sizing pass */
    size_t len;    /* bytes written (or that would have been) */
    size_t cap;
    kp_err err;    /* KP_ERR__NOMEM once len passed cap */
    kp_wr_gather *gather; /* NULL (kp_wr_init): kp_wr_bytes_ref copies */
} kp_writer;

static inline void kp_wr_init(kp_writer *w, void *buf, size_t cap);

static inline void kp_wr_i8(kp_writer *w, int8_t v);
static inline void kp_wr_i16(kp_writer *w, int16_t v);
static inline void kp_wr_i32(kp_writer *w, int32_t v);
static inline void kp_wr_i64(kp_writer *w, int64_t v);
static inline void kp_wr_u32(kp_writer *w, uint32_t v);
static inline void kp_wr_bool(kp_writer *w, bool v);
void kp_wr_uvarint(kp_writer *w, uint32_t v);
void kp_wr_varint(kp_writer *w, int32_t v);
void kp_wr_varlong(kp_writer *w, int64_t v);
static inline void kp_wr_raw(kp_writer *w, const void *p, size_t n);
/* s.len == -1 writes a null. The nullable/non-nullable distinction is the
 * caller's: a non-nullable field must not be given a null. */
static inline void kp_wr_string(kp_writer *w, kp_slice s);
void kp_wr_cstring(kp_writer *w, const char *s); /* NULL -> null string */
static inline void kp_wr_bytes(kp_writer *w, kp_slice b);
/* kp_wr_bytes, except that with a gather list attached (w->gather) and
 * room in it, bytes of at least gather->min are not copied: the length
 * prefix is written and the bytes become a run of the list (the output is
 * then len + gather->bytes long: kp_wr_total). Without one it is
 * kp_wr_bytes. */
static inline void kp_wr_bytes_ref(kp_writer *w, kp_slice b);
/* The whole output: bytes written plus the gathered runs. */
static inline size_t kp_wr_total(const kp_writer *w);
static inline void kp_wr_array_len(kp_writer *w, int32_t n);

/* Reserve 4 bytes for an int32 filled in later (e.g. a length prefix);
 * returns the offset to patch. */
static inline size_t kp_wr_reserve_i32(kp_writer *w);
static inline void kp_wr_patch_i32(kp_writer *w, size_t off, int32_t v);

/* ------------------------------------------------------------------ */
/* Sizes and raw big-endian helpers                                    */
/* ------------------------------------------------------------------ */

int kp_uvarint_size(uint32_t v);
int kp_varint_size(int32_t v);
int kp_varlong_size(int64_t v);

static inline uint32_t kp_zigzag32(int32_t v) {
    return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}
static inline int32_t kp_unzigzag32(uint32_t v) {
    return (int32_t)((v >> 1) ^ (~(v & 1) + 1));
}
static inline uint64_t kp_zigzag64(int64_t v) {
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t kp_unzigzag64(uint64_t v) {
    return (int64_t)((v >> 1) ^ (~(v & 1) + 1));
}

/* The stores: one swapped store each on a little-endian host (byte by
 * byte, the compiler merges them only when it can prove nothing between
 * them aliases the bytes: not so among a struct's fields read in turn). */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline void kp_be16_put(uint8_t *p, uint16_t v) {
    v = __builtin_bswap16(v);
    memcpy(p, &v, 2);
}
static inline void kp_be32_put(uint8_t *p, uint32_t v) {
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
}
static inline void kp_be64_put(uint8_t *p, uint64_t v) {
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}
#else
static inline void kp_be16_put(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v;
}
static inline void kp_be32_put(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}
static inline void kp_be64_put(uint8_t *p, uint64_t v) {
    kp_be32_put(p, (uint32_t)(v >> 32)); kp_be32_put(p + 4, (uint32_t)v);
}
#endif
static inline uint16_t kp_be16_get(const uint8_t *p) {
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t kp_be32_get(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline uint64_t kp_be64_get(const uint8_t *p) {
    return ((uint64_t)kp_be32_get(p) << 32) | kp_be32_get(p + 4);
}


/* ------------------------------------------------------------------ */
/* Inline definitions of the reader's and writer's primitives          */
/* ------------------------------------------------------------------ */

static inline void kp_rd_init(kp_reader *r, const void *buf, size_t len) {
    r->p = buf;
    r->end = buf ? r->p + len : r->p; /* NULL + 0 is undefined behaviour in C */
    r->err = KP_ERR_NONE;
}

static inline size_t kp_rd_remaining(const kp_reader *r) {
    return r->err ? 0 : (size_t)(r->end - r->p);
}

static inline bool kp_rd_fail(kp_reader *r, kp_err err) {
    if (!r->err)
        r->err = err;
    r->p = r->end;
    return false;
}

/* Returns a pointer to n readable bytes and advances, or NULL (error set). */
static inline const uint8_t *kp_rd__take(kp_reader *r, size_t n) {
    if (r->err)
        return NULL;
    if ((size_t)(r->end - r->p) < n) {
        kp_rd_fail(r, KP_ERR__TRUNCATED);
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static inline int8_t kp_rd_i8(kp_reader *r) {
    const uint8_t *p = kp_rd__take(r, 1);
    return p ? (int8_t)p[0] : 0;
}

static inline int16_t kp_rd_i16(kp_reader *r) {
    const uint8_t *p = kp_rd__take(r, 2);
    return p ? (int16_t)kp_be16_get(p) : 0;
}

static inline int32_t kp_rd_i32(kp_reader *r) {
    const uint8_t *p = kp_rd__take(r, 4);
    return p ? (int32_t)kp_be32_get(p) : 0;
}

static inline uint32_t kp_rd_u32(kp_reader *r) {
    const uint8_t *p = kp_rd__take(r, 4);
    return p ? kp_be32_get(p) : 0;
}

static inline int64_t kp_rd_i64(kp_reader *r) {
    const uint8_t *p = kp_rd__take(r, 8);
    return p ? (int64_t)kp_be64_get(p) : 0;
}

static inline bool kp_rd_bool(kp_reader *r) {
    return kp_rd_i8(r) != 0;
}

static inline kp_slice kp_rd__lenprefixed(kp_reader *r, int32_t len, bool nullable) {
    if (r->err)
        return KP_SLICE_NULL;
    if (len == -1) {
        if (!nullable)
            kp_rd_fail(r, KP_ERR__BAD_MSG);
        return KP_SLICE_NULL;
    }
    if (len < -1) {
        kp_rd_fail(r, KP_ERR__BAD_MSG);
        return KP_SLICE_NULL;
    }
    const uint8_t *p = kp_rd__take(r, (size_t)len);
    if (!p)
        return KP_SLICE_NULL;
    return (kp_slice){ p, len };
}

static inline kp_slice kp_rd_string(kp_reader *r) {
    return kp_rd__lenprefixed(r, kp_rd_i16(r), false);
}

static inline kp_slice kp_rd_nullable_string(kp_reader *r) {
    return kp_rd__lenprefixed(r, kp_rd_i16(r), true);
}

static inline kp_slice kp_rd_bytes(kp_reader *r) {
    return kp_rd__lenprefixed(r, kp_rd_i32(r), false);
}

static inline kp_slice kp_rd_nullable_bytes(kp_reader *r) {
    return kp_rd__lenprefixed(r, kp_rd_i32(r), true);
}

static inline const uint8_t *kp_rd_raw(kp_reader *r, size_t n) {
    return kp_rd__take(r, n);
}

static inline void kp_rd_skip(kp_reader *r, size_t n) {
    (void)kp_rd__take(r, n);
}

static inline int32_t kp_rd_array_len(kp_reader *r, size_t min_elem_size, bool nullable) {
    int32_t n = kp_rd_i32(r);
    if (r->err)
        return 0;
    if (n == -1 && nullable)
        return -1;
    if (n < 0) {
        kp_rd_fail(r, KP_ERR__BAD_MSG);
        return 0;
    }
    if (min_elem_size && (uint64_t)n * min_elem_size > kp_rd_remaining(r)) {
        kp_rd_fail(r, KP_ERR__BAD_MSG);
        return 0;
    }
    return n;
}

static inline kp_reader kp_rd_sub(kp_reader *r, size_t n) {
    kp_reader sub;
    const uint8_t *p = kp_rd__take(r, n);
    kp_rd_init(&sub, p, p ? n : 0);
    if (!p)
        sub.err = r->err;
    return sub;
}

static inline void kp_wr_init(kp_writer *w, void *buf, size_t cap) {
    w->buf = buf;
    w->len = 0;
    w->cap = buf ? cap : 0;
    w->err = KP_ERR_NONE;
    w->gather = NULL;
}

/* Where n bytes go, or NULL when sizing or out of room (len still grows).
 * No separate test of err: err is only ever set here, when len passed cap,
 * and len never shrinks, so once err is set len > cap stays true and every
 * later write is refused by the one comparison. */
static inline uint8_t *kp_wr__take(kp_writer *w, size_t n) {
    size_t at = w->len, len = at + n;
    w->len = len;
    if (len <= w->cap && w->buf)
        return w->buf + at;
    if (w->buf)
        w->err = KP_ERR__NOMEM;
    return NULL;
}

static inline void kp_wr_i8(kp_writer *w, int8_t v) {
    uint8_t *p = kp_wr__take(w, 1);
    if (p)
        p[0] = (uint8_t)v;
}

static inline void kp_wr_i16(kp_writer *w, int16_t v) {
    uint8_t *p = kp_wr__take(w, 2);
    if (p)
        kp_be16_put(p, (uint16_t)v);
}

static inline void kp_wr_i32(kp_writer *w, int32_t v) {
    uint8_t *p = kp_wr__take(w, 4);
    if (p)
        kp_be32_put(p, (uint32_t)v);
}

static inline void kp_wr_u32(kp_writer *w, uint32_t v) {
    uint8_t *p = kp_wr__take(w, 4);
    if (p)
        kp_be32_put(p, v);
}

static inline void kp_wr_i64(kp_writer *w, int64_t v) {
    uint8_t *p = kp_wr__take(w, 8);
    if (p)
        kp_be64_put(p, (uint64_t)v);
}

static inline void kp_wr_bool(kp_writer *w, bool v) {
    kp_wr_i8(w, v ? 1 : 0);
}

static inline void kp_wr_raw(kp_writer *w, const void *src, size_t n) {
    uint8_t *p = kp_wr__take(w, n);
    if (p && n)
        memcpy(p, src, n);
}

static inline void kp_wr_string(kp_writer *w, kp_slice s) {
    if (s.len < 0) {
        kp_wr_i16(w, -1);
        return;
    }
    kp_wr_i16(w, (int16_t)s.len);
    kp_wr_raw(w, s.ptr, (size_t)s.len);
}

static inline void kp_wr_bytes(kp_writer *w, kp_slice b) {
    if (b.len < 0) {
        kp_wr_i32(w, -1);
        return;
    }
    kp_wr_i32(w, b.len);
    kp_wr_raw(w, b.ptr, (size_t)b.len);
}

static inline void kp_wr_bytes_ref(kp_writer *w, kp_slice b) {
    kp_wr_gather *g = w->gather;
    if (!g || b.len < 0 || (size_t)b.len < g->min || g->n == g->cap) {
        kp_wr_bytes(w, b);
        return;
    }
    kp_wr_i32(w, b.len);
    g->runs[g->n++] = (kp_wr_run){ w->len, b.ptr, (size_t)b.len };
    g->bytes += (size_t)b.len;
}

static inline size_t kp_wr_total(const kp_writer *w) {
    return w->len + (w->gather ? w->gather->bytes : 0);
}

static inline void kp_wr_array_len(kp_writer *w, int32_t n) {
    kp_wr_i32(w, n);
}

static inline size_t kp_wr_reserve_i32(kp_writer *w) {
    size_t off = w->len;
    kp_wr_i32(w, 0);
    return off;
}

static inline void kp_wr_patch_i32(kp_writer *w, size_t off, int32_t v) {
    if (w->buf && !w->err && off + 4 <= w->len)
        kp_be32_put(w->buf + off, (uint32_t)v);
}

#endif
