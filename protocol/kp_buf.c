/*
 * kp_buf.c — the out-of-line part of the bounded reader and writer for
 * Kafka wire primitives (the fixed-width primitives are static inline in
 * kp_buf.h). See kp_buf.h for the sticky-error model and the encodings.
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

/* Unsigned LEB128 of at most max_bytes bytes. The last allowed byte may
 * not carry bits beyond the type's width in a way that sets "more". */
static uint64_t kp_rd_leb(kp_reader *r, int max_bytes) {
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        const uint8_t *p = kp_rd__take(r, 1);
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
        const uint8_t *p = kp_rd__take(r, 1);
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

/* ---- writer --------------------------------------------------------- */

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

void kp_wr_cstring(kp_writer *w, const char *s) {
    kp_wr_string(w, kp_slice_str(s));
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
