/*
 * kp_compress.c — gzip (zlib), snappy (xerial framing), lz4 (LZ4F frames)
 * and zstd for RecordBatch records, and kp_dbuf. Formats: kp_compress.h.
 *
 * Every decoder is streaming into a kp_dbuf that grows geometrically up to
 * its max, so the output is bounded by the caller, not by what the input
 * claims; every loop either makes progress or stops with an error.
 */
#include "kp_compress.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "kp_buf.h"

/* ---- names ------------------------------------------------------------ */

static const char *const kp_codec_names[KP_CODEC_COUNT] = {
    "none", "gzip", "snappy", "lz4", "zstd"
};

const char *kp_codec_name(kp_codec c) {
    if ((unsigned)c < KP_CODEC_COUNT)
        return kp_codec_names[c];
    return "unknown";
}

bool kp_codec_from_name(const char *s, kp_codec *out) {
    if (!s)
        return false;
    for (int i = 0; i < KP_CODEC_COUNT; i++)
        if (strcmp(s, kp_codec_names[i]) == 0) {
            *out = (kp_codec)i;
            return true;
        }
    return false;
}

/* ---- kp_dbuf ------------------------------------------------------------ */

void kp_dbuf_init(kp_dbuf *d, size_t max) {
    d->ptr = NULL;
    d->len = 0;
    d->cap = 0;
    d->max = max ? max : KP_DBUF_DEFAULT_MAX;
}

void kp_dbuf_free(kp_dbuf *d) {
    free(d->ptr);
    d->ptr = NULL;
    d->len = 0;
    d->cap = 0;
}

void kp_dbuf_reset(kp_dbuf *d) {
    d->len = 0;
}

kp_err kp_dbuf_reserve(kp_dbuf *d, size_t extra) {
    if (extra > d->max || d->len > d->max - extra)
        return KP_ERR__NOMEM;
    size_t need = d->len + extra;
    if (need <= d->cap)
        return KP_ERR_NONE;
    size_t cap = d->cap ? d->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > d->max)
        cap = d->max;
    uint8_t *p = realloc(d->ptr, cap);
    if (!p)
        return KP_ERR__NOMEM;
    d->ptr = p;
    d->cap = cap;
    return KP_ERR_NONE;
}

kp_err kp_dbuf_append(kp_dbuf *d, const void *p, size_t n) {
    kp_err err = kp_dbuf_reserve(d, n);
    if (err)
        return err;
    if (n)
        memcpy(d->ptr + d->len, p, n);
    d->len += n;
    return KP_ERR_NONE;
}

/* Room for at least one more byte of output, preferring `want` more;
 * returns the writable span after len (0 = max reached or no memory). */
static size_t kp_dbuf_room(kp_dbuf *d, size_t want) {
    if (d->cap - d->len > 0)
        return d->cap - d->len;
    size_t left = d->max - d->len;
    if (left == 0)
        return 0;
    if (want > left)
        want = left;
    if (want < 1)
        want = 1;
    if (kp_dbuf_reserve(d, want) != KP_ERR_NONE)
        return 0;
    return d->cap - d->len;
}

/* ---- gzip ------------------------------------------------------------- */

#define KP_GZIP_LEVEL 6 /* java.util.zip.Deflater.DEFAULT_COMPRESSION */

static size_t kp_gzip_bound(size_t len) {
    /* compressBound() covers the zlib wrapper (6 bytes); gzip's header and
     * trailer take 18, so 12 more, for the default windowBits/memLevel. */
    return (size_t)compressBound((uLong)len) + 12;
}

static kp_err kp_gzip_compress(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                               size_t *out_len) {
    if (len > UINT_MAX)
        return KP_ERR__INVALID_ARG;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, KP_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return KP_ERR__COMPRESSION;
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)len;
    zs.next_out = dst;
    zs.avail_out = cap > UINT_MAX ? UINT_MAX : (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    size_t produced = (size_t)zs.total_out;
    deflateEnd(&zs);
    if (rc == Z_STREAM_END) {
        *out_len = produced;
        return KP_ERR_NONE;
    }
    return (rc == Z_OK || rc == Z_BUF_ERROR) ? KP_ERR__NOMEM : KP_ERR__COMPRESSION;
}

static kp_err kp_gzip_decompress(const uint8_t *src, size_t len, kp_dbuf *out) {
    if (len > UINT_MAX)
        return KP_ERR__INVALID_ARG;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) /* gzip framing only */
        return KP_ERR__COMPRESSION;
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)len;
    kp_err err = KP_ERR_NONE;
    for (;;) {
        size_t room = kp_dbuf_room(out, len * 4 + 1024);
        if (room == 0) {
            err = KP_ERR__NOMEM;
            break;
        }
        zs.next_out = out->ptr + out->len;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before_out = zs.avail_out, before_in = zs.avail_in;
        int rc = inflate(&zs, Z_NO_FLUSH);
        out->len += before_out - zs.avail_out;
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            /* another gzip member follows (GZIPInputStream reads them all) */
            if (inflateReset(&zs) != Z_OK) {
                err = KP_ERR__COMPRESSION;
                break;
            }
            continue;
        }
        if (rc == Z_OK)
            continue;
        if (rc == Z_BUF_ERROR && zs.avail_out == 0)
            continue; /* output full: grow and go on */
        if (rc == Z_BUF_ERROR && before_in == zs.avail_in && before_out == zs.avail_out) {
            err = KP_ERR__COMPRESSION; /* input ended inside the stream */
            break;
        }
        err = KP_ERR__COMPRESSION; /* Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR */
        break;
    }
    inflateEnd(&zs);
    return err;
}

/* ---- snappy (xerial) ---------------------------------------------------- */

static const uint8_t kp_xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };
#define KP_XERIAL_HEADER 16
#define KP_XERIAL_BLOCK (32 * 1024) /* SnappyOutputStream.DEFAULT_BLOCK_SIZE */

static size_t kp_snappy_bound(size_t len) {
    size_t chunks = (len + KP_XERIAL_BLOCK - 1) / KP_XERIAL_BLOCK;
    /* snappy_max_compressed_length(n) = 32 + n + n/6, so the sum over the
     * chunks is at most 32 * chunks + len + len / 6. */
    return KP_XERIAL_HEADER + chunks * (4 + 32) + len + len / 6;
}

static kp_err kp_snappy_compress(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                                 size_t *out_len) {
    if (cap < KP_XERIAL_HEADER)
        return KP_ERR__NOMEM;
    memcpy(dst, kp_xerial_magic, 8);
    kp_be32_put(dst + 8, 1);
    kp_be32_put(dst + 12, 1);
    size_t at = KP_XERIAL_HEADER;
    for (size_t off = 0; off < len; off += KP_XERIAL_BLOCK) {
        size_t n = len - off < KP_XERIAL_BLOCK ? len - off : KP_XERIAL_BLOCK;
        size_t need = snappy_max_compressed_length(n);
        if (cap - at < 4 || cap - at - 4 < need)
            return KP_ERR__NOMEM;
        size_t clen = need;
        if (snappy_compress((const char *)src + off, n, (char *)dst + at + 4, &clen) != SNAPPY_OK)
            return KP_ERR__COMPRESSION;
        kp_be32_put(dst + at, (uint32_t)clen);
        at += 4 + clen;
    }
    *out_len = at;
    return KP_ERR_NONE;
}

static kp_err kp_snappy_block(const uint8_t *src, size_t len, kp_dbuf *out) {
    size_t n;
    if (snappy_uncompressed_length((const char *)src, len, &n) != SNAPPY_OK)
        return KP_ERR__COMPRESSION;
    if (snappy_validate_compressed_buffer((const char *)src, len) != SNAPPY_OK)
        return KP_ERR__COMPRESSION;
    kp_err err = kp_dbuf_reserve(out, n);
    if (err)
        return err;
    size_t got = n;
    if (n && snappy_uncompress((const char *)src, len, (char *)out->ptr + out->len, &got) != SNAPPY_OK)
        return KP_ERR__COMPRESSION;
    if (got != n)
        return KP_ERR__COMPRESSION;
    out->len += n;
    return KP_ERR_NONE;
}

static kp_err kp_snappy_decompress(const uint8_t *src, size_t len, kp_dbuf *out) {
    if (len < KP_XERIAL_HEADER || memcmp(src, kp_xerial_magic, 8) != 0)
        return kp_snappy_block(src, len, out); /* raw block, as SnappyInputStream */
    int32_t version = (int32_t)kp_be32_get(src + 8);
    int32_t compat = (int32_t)kp_be32_get(src + 12);
    if (version < 1 || compat < 1)
        return KP_ERR__COMPRESSION;
    size_t at = KP_XERIAL_HEADER;
    while (at < len) {
        if (len - at < 4)
            return KP_ERR__COMPRESSION;
        int32_t clen = (int32_t)kp_be32_get(src + at);
        at += 4;
        if (clen < 0 || (size_t)clen > len - at)
            return KP_ERR__COMPRESSION;
        kp_err err = kp_snappy_block(src + at, (size_t)clen, out);
        if (err)
            return err;
        at += (size_t)clen;
    }
    return KP_ERR_NONE;
}

/* ---- lz4 frame ------------------------------------------------------------ */

static void kp_lz4_prefs(LZ4F_preferences_t *p) {
    memset(p, 0, sizeof *p);
    p->frameInfo.blockSizeID = LZ4F_max64KB;
    p->frameInfo.blockMode = LZ4F_blockIndependent;
    p->frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    p->frameInfo.frameType = LZ4F_frame;
    p->frameInfo.contentSize = 0;
    p->compressionLevel = 0; /* fast, as lz4-java's fastCompressor */
}

static size_t kp_lz4_bound(size_t len) {
    LZ4F_preferences_t p;
    kp_lz4_prefs(&p);
    return LZ4F_compressFrameBound(len, &p);
}

static kp_err kp_lz4_compress(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                              size_t *out_len) {
    LZ4F_preferences_t p;
    kp_lz4_prefs(&p);
    if (cap < LZ4F_compressFrameBound(len, &p))
        return KP_ERR__NOMEM;
    size_t n = LZ4F_compressFrame(dst, cap, src, len, &p);
    if (LZ4F_isError(n))
        return KP_ERR__COMPRESSION;
    *out_len = n;
    return KP_ERR_NONE;
}

static kp_err kp_lz4_decompress(const uint8_t *src, size_t len, kp_dbuf *out) {
    if (len == 0)
        return KP_ERR__COMPRESSION;
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return KP_ERR__NOMEM;
    kp_err err = KP_ERR_NONE;
    size_t at = 0, hint = 1;
    while (at < len) {
        size_t room = kp_dbuf_room(out, 64 * 1024);
        if (room == 0) {
            err = KP_ERR__NOMEM;
            break;
        }
        size_t dst_n = room, src_n = len - at;
        hint = LZ4F_decompress(dctx, out->ptr + out->len, &dst_n, src + at, &src_n, NULL);
        if (LZ4F_isError(hint)) {
            err = KP_ERR__COMPRESSION;
            break;
        }
        at += src_n;
        out->len += dst_n;
        if (src_n == 0 && dst_n == 0 && hint != 0) {
            err = KP_ERR__COMPRESSION; /* no progress possible */
            break;
        }
    }
    /* Flush what the decoder still holds (output was full at the end). */
    while (!err && hint != 0) {
        size_t room = kp_dbuf_room(out, 64 * 1024);
        if (room == 0) {
            err = KP_ERR__NOMEM;
            break;
        }
        size_t dst_n = room, src_n = 0;
        hint = LZ4F_decompress(dctx, out->ptr + out->len, &dst_n, NULL, &src_n, NULL);
        if (LZ4F_isError(hint) || (dst_n == 0 && hint != 0)) {
            err = KP_ERR__COMPRESSION; /* input ended inside a frame */
            break;
        }
        out->len += dst_n;
    }
    LZ4F_freeDecompressionContext(dctx);
    return err;
}

/* ---- zstd --------------------------------------------------------------- */

#define KP_ZSTD_LEVEL 3     /* ZSTD_CLEVEL_DEFAULT, Kafka's default */
#define KP_ZSTD_WINDOW_LOG 24

static kp_err kp_zstd_compress(const uint8_t *src, size_t len, uint8_t *dst, size_t cap,
                               size_t *out_len) {
    size_t n = ZSTD_compress(dst, cap, src, len, KP_ZSTD_LEVEL);
    if (ZSTD_isError(n))
        return ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall ? KP_ERR__NOMEM
                                                                    : KP_ERR__COMPRESSION;
    *out_len = n;
    return KP_ERR_NONE;
}

static kp_err kp_zstd_decompress(const uint8_t *src, size_t len, kp_dbuf *out) {
    if (len == 0)
        return KP_ERR__COMPRESSION;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx)
        return KP_ERR__NOMEM;
    kp_err err = KP_ERR_NONE;
    if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, KP_ZSTD_WINDOW_LOG))) {
        ZSTD_freeDCtx(dctx);
        return KP_ERR__COMPRESSION;
    }
    ZSTD_inBuffer in = { src, len, 0 };
    size_t ret = 1;
    for (;;) {
        if (in.pos == in.size && ret == 0)
            break; /* every frame complete */
        size_t room = kp_dbuf_room(out, len * 4 + 1024);
        if (room == 0) {
            err = KP_ERR__NOMEM;
            break;
        }
        ZSTD_outBuffer o = { out->ptr + out->len, room, 0 };
        size_t in_before = in.pos;
        ret = ZSTD_decompressStream(dctx, &o, &in);
        if (ZSTD_isError(ret)) {
            err = KP_ERR__COMPRESSION;
            break;
        }
        out->len += o.pos;
        if (in.pos == in_before && o.pos == 0) {
            err = KP_ERR__COMPRESSION; /* input ended inside a frame */
            break;
        }
    }
    ZSTD_freeDCtx(dctx);
    return err;
}

/* ---- dispatch ------------------------------------------------------------- */

size_t kp_compress_bound(kp_codec codec, size_t len) {
    switch (codec) {
    case KP_CODEC_NONE: return len;
    case KP_CODEC_GZIP: return kp_gzip_bound(len);
    case KP_CODEC_SNAPPY: return kp_snappy_bound(len);
    case KP_CODEC_LZ4: return kp_lz4_bound(len);
    case KP_CODEC_ZSTD: return ZSTD_compressBound(len);
    }
    return 0;
}

kp_err kp_compress(kp_codec codec, const void *src, size_t len, uint8_t *dst, size_t cap,
                   size_t *out_len) {
    *out_len = 0;
    switch (codec) {
    case KP_CODEC_NONE:
        if (cap < len)
            return KP_ERR__NOMEM;
        if (len)
            memcpy(dst, src, len);
        *out_len = len;
        return KP_ERR_NONE;
    case KP_CODEC_GZIP: return kp_gzip_compress(src, len, dst, cap, out_len);
    case KP_CODEC_SNAPPY: return kp_snappy_compress(src, len, dst, cap, out_len);
    case KP_CODEC_LZ4: return kp_lz4_compress(src, len, dst, cap, out_len);
    case KP_CODEC_ZSTD: return kp_zstd_compress(src, len, dst, cap, out_len);
    }
    return KP_ERR__INVALID_ARG;
}

kp_err kp_decompress(kp_codec codec, const void *src, size_t len, kp_dbuf *out) {
    size_t start = out->len;
    kp_err err;
    switch (codec) {
    case KP_CODEC_NONE: err = kp_dbuf_append(out, src, len); break;
    case KP_CODEC_GZIP: err = kp_gzip_decompress(src, len, out); break;
    case KP_CODEC_SNAPPY: err = kp_snappy_decompress(src, len, out); break;
    case KP_CODEC_LZ4: err = kp_lz4_decompress(src, len, out); break;
    case KP_CODEC_ZSTD: err = kp_zstd_decompress(src, len, out); break;
    default: err = KP_ERR__INVALID_ARG; break;
    }
    if (err)
        out->len = start;
    return err;
}
