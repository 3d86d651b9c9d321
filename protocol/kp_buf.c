/*
 * kp_buf.c — bounded reader and writer for Kafka wire primitives.
 * See kp_buf.h for the sticky-error model and the encodings.
 */
#include "kp_buf.h"

#include <string.h>

kp_slice kp_slice_str(const char *s) {
    if (!s)
        return KP_SLICE_NULL;
    size_t n = strlen(s);
    return (kp_slice){ (const uint8_t *)s, n > INT32_MAX ? INT32_MAX : (int32_t)n };
}

bool kp_slice_eq(kp_slice a, kp_slice b) {
    if (a.len != b.len)
        return false;
    if (a.len <= 0)
        return true;
    return memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

bool kp_slice_eq_str(kp_slice a, const char *s) {
    return kp_slice_eq(a, kp_slice_str(s));
}

/* ---- reader --------------------------------------------------------- */

void kp_rd_init(kp_reader *r, const void *buf, size_t len) {
    r->p = buf;
    r->end = buf ? r->p + len : r->p; /* NULL + 0 is undefined behaviour in C */
    r->err = KP_ERR_NONE;
}

size_t kp_rd_remaining(const kp_reader *r) {
    return r->err ? 0 : (size_t)(r->end - r->p);
}

bool kp_rd_fail(kp_reader *r, kp_err err) {
    if (!r->err)
        r->err = err;
    r->p = r->end;
    return false;
}

/* Returns a pointer to n readable bytes and advances, or NULL (error set). */
static const uint8_t *kp_rd_take(kp_reader *r, size_t n) {
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

int8_t kp_rd_i8(kp_reader *r) {
    const uint8_t *p = kp_rd_take(r, 1);
    return p ? (int8_t)p[0] : 0;
}

int16_t kp_rd_i16(kp_reader *r) {
    const uint8_t *p = kp_rd_take(r, 2);
    return p ? (int16_t)kp_be16_get(p) : 0;
}

int32_t kp_rd_i32(kp_reader *r) {
    const uint8_t *p = kp_rd_take(r, 4);
    return p ? (int32_t)kp_be32_get(p) : 0;
}

uint32_t kp_rd_u32(kp_reader *r) {
    const uint8_t *p = kp_rd_take(r, 4);
    return p ? kp_be32_get(p) : 0;
}

int64_t kp_rd_i64(kp_reader *r) {
    const uint8_t *p = kp_rd_take(r, 8);
    return p ? (int64_t)kp_be64_get(p) : 0;
}

bool kp_rd_bool(kp_reader *r) {
    return kp_rd_i8(r) != 0;
}

/* Unsigned LEB128 of at most max_bytes bytes. The last allowed byte may
 * not carry bits beyond the type's width in a way that sets "more". */
static uint64_t kp_rd_leb(kp_reader *r, int max_bytes) {
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        const uint8_t *p = kp_rd_take(r, 1);
        if (!p)
            return 0;
        v |= (uint64_t)(*p & 0x7f) << (7 * i);
        if (!(*p & 0x80))
            return v;
    }
    kp_rd_fail(r, KP_ERR__BAD_MSG); /* too many bytes */
    return 0;
}

uint32_t kp_rd_uvarint(kp_reader *r) {
    uint64_t v = kp_rd_leb(r, 5);
    if (v > UINT32_MAX) {
        kp_rd_fail(r, KP_ERR__BAD_MSG);
        return 0;
    }
    return (uint32_t)v;
}

int32_t kp_rd_varint(kp_reader *r) {
    return kp_unzigzag32(kp_rd_uvarint(r));
}

int64_t kp_rd_varlong(kp_reader *r) {
    /* 10 bytes carry 70 bits; the 10th may only hold the top bit. */
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        const uint8_t *p = kp_rd_take(r, 1);
        if (!p)
            return 0;
        if (i == 9 && (*p & 0xfe)) {
            kp_rd_fail(r, KP_ERR__BAD_MSG);
            return 0;
        }
        v |= (uint64_t)(*p & 0x7f) << (7 * i);
        if (!(*p & 0x80))
            return kp_unzigzag64(v);
    }
    kp_rd_fail(r, KP_ERR__BAD_MSG);
    return 0;
}

static kp_slice kp_rd_lenprefixed(kp_reader *r, int32_t len, bool nullable) {
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
    const uint8_t *p = kp_rd_take(r, (size_t)len);
    if (!p)
        return KP_SLICE_NULL;
    return (kp_slice){ p, len };
}

kp_slice kp_rd_string(kp_reader *r) {
    return kp_rd_lenprefixed(r, kp_rd_i16(r), false);
}

kp_slice kp_rd_nullable_string(kp_reader *r) {
    return kp_rd_lenprefixed(r, kp_rd_i16(r), true);
}

kp_slice kp_rd_bytes(kp_reader *r) {
    return kp_rd_lenprefixed(r, kp_rd_i32(r), false);
}

kp_slice kp_rd_nullable_bytes(kp_reader *r) {
    return kp_rd_lenprefixed(r, kp_rd_i32(r), true);
}

const uint8_t *kp_rd_raw(kp_reader *r, size_t n) {
    return kp_rd_take(r, n);
}

void kp_rd_skip(kp_reader *r, size_t n) {
    (void)kp_rd_take(r, n);
}

int32_t kp_rd_array_len(kp_reader *r, size_t min_elem_size, bool nullable) {
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

kp_reader kp_rd_sub(kp_reader *r, size_t n) {
    kp_reader sub;
    const uint8_t *p = kp_rd_take(r, n);
    kp_rd_init(&sub, p, p ? n : 0);
    if (!p)
        sub.err = r->err;
    return sub;
}

/* ---- writer --------------------------------------------------------- */

void kp_wr_init(kp_writer *w, void *buf, size_t cap) {
    w->buf = buf;
    w->len = 0;
    w->cap = buf ? cap : 0;
    w->err = KP_ERR_NONE;
}

/* Where n bytes go, or NULL when sizing or out of room (len still grows). */
static uint8_t *kp_wr_take(kp_writer *w, size_t n) {
    size_t at = w->len;
    w->len += n;
    if (!w->buf)
        return NULL;
    if (w->err || w->len > w->cap) {
        w->err = KP_ERR__NOMEM;
        return NULL;
    }
    return w->buf + at;
}

void kp_wr_i8(kp_writer *w, int8_t v) {
    uint8_t *p = kp_wr_take(w, 1);
    if (p)
        p[0] = (uint8_t)v;
}

void kp_wr_i16(kp_writer *w, int16_t v) {
    uint8_t *p = kp_wr_take(w, 2);
    if (p)
        kp_be16_put(p, (uint16_t)v);
}

void kp_wr_i32(kp_writer *w, int32_t v) {
    uint8_t *p = kp_wr_take(w, 4);
    if (p)
        kp_be32_put(p, (uint32_t)v);
}

void kp_wr_u32(kp_writer *w, uint32_t v) {
    uint8_t *p = kp_wr_take(w, 4);
    if (p)
        kp_be32_put(p, v);
}

void kp_wr_i64(kp_writer *w, int64_t v) {
    uint8_t *p = kp_wr_take(w, 8);
    if (p)
        kp_be64_put(p, (uint64_t)v);
}

void kp_wr_bool(kp_writer *w, bool v) {
    kp_wr_i8(w, v ? 1 : 0);
}

static void kp_wr_leb(kp_writer *w, uint64_t v) {
    uint8_t tmp[10];
    int n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    kp_wr_raw(w, tmp, (size_t)n);
}

void kp_wr_uvarint(kp_writer *w, uint32_t v) {
    kp_wr_leb(w, v);
}

void kp_wr_varint(kp_writer *w, int32_t v) {
    kp_wr_leb(w, kp_zigzag32(v));
}

void kp_wr_varlong(kp_writer *w, int64_t v) {
    kp_wr_leb(w, kp_zigzag64(v));
}

void kp_wr_raw(kp_writer *w, const void *src, size_t n) {
    uint8_t *p = kp_wr_take(w, n);
    if (p && n)
        memcpy(p, src, n);
}

void kp_wr_string(kp_writer *w, kp_slice s) {
    if (s.len < 0) {
        kp_wr_i16(w, -1);
        return;
    }
    kp_wr_i16(w, (int16_t)s.len);
    kp_wr_raw(w, s.ptr, (size_t)s.len);
}

void kp_wr_cstring(kp_writer *w, const char *s) {
    kp_wr_string(w, kp_slice_str(s));
}

void kp_wr_bytes(kp_writer *w, kp_slice b) {
    if (b.len < 0) {
        kp_wr_i32(w, -1);
        return;
    }
    kp_wr_i32(w, b.len);
    kp_wr_raw(w, b.ptr, (size_t)b.len);
}

void kp_wr_array_len(kp_writer *w, int32_t n) {
    kp_wr_i32(w, n);
}

size_t kp_wr_reserve_i32(kp_writer *w) {
    size_t off = w->len;
    kp_wr_i32(w, 0);
    return off;
}

void kp_wr_patch_i32(kp_writer *w, size_t off, int32_t v) {
    if (w->buf && !w->err && off + 4 <= w->len)
        kp_be32_put(w->buf + off, (uint32_t)v);
}

/* ---- sizes ---------------------------------------------------------- */

static int kp_leb_size(uint64_t v) {
    int n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

int kp_uvarint_size(uint32_t v) { return kp_leb_size(v); }
int kp_varint_size(int32_t v) { return kp_leb_size(kp_zigzag32(v)); }
int kp_varlong_size(int64_t v) { return kp_leb_size(kp_zigzag64(v)); }
