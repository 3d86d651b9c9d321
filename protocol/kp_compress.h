/*
 * kp_compress.h — the four codecs a RecordBatch's records may be compressed
 * with, in the byte formats kafka-clients 2.1 writes and reads, plus
 * kp_dbuf, the small growable buffer decompression writes into.
 *
 * Formats (what the Java client's streams produce; we decode any valid
 * stream of the format, not only what we write):
 *
 *   gzip    RFC 1952 gzip member(s) (java.util.zip.GZIPOutputStream);
 *           we write level 6 (Deflater's default); several concatenated
 *           members decode as their concatenation (GZIPInputStream).
 *   snappy  snappy-java's "xerial" framing (SnappyOutputStream):
 *
 *           OFFSET SIZE DESCRIPTION
 *           0      8    magic 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
 *           8      4    version, int32 BE (we write 1)
 *           12     4    minimum compatible version, int32 BE (we write 1)
 *           16     ...  chunks: int32 BE length n, then n bytes of one raw
 *                       snappy block; each block holds at most 32 KiB of
 *                       input (SnappyOutputStream's default block size)
 *
 *           Input that does not start with the 16-byte header is decoded as
 *           one raw snappy block, as SnappyInputStream does.
 *   lz4     LZ4 frame format (KafkaLZ4BlockOutputStream): we write 64 KiB
 *           independent blocks, no block or content checksum, no content
 *           size; decoding accepts any valid frame (liblz4's LZ4F), and
 *           concatenated frames.
 *   zstd    zstd frame(s) (zstd-jni ZstdOutputStream), level 3; decoded in
 *           streaming mode so frames without a content size work; the
 *           window is limited to 2^24 bytes so a hostile header cannot
 *           make the decoder reserve more.
 *
 * Memory: kp_compress writes into the caller's buffer (size it with
 * kp_compress_bound). kp_decompress appends to a kp_dbuf the caller owns;
 * the dbuf's `max` is a hard cap that stops decompression bombs. The codec
 * libraries allocate their own short-lived state inside each call (zlib,
 * LZ4F and zstd contexts); nothing survives a call.
 *
 * Errors: KP_ERR__NOMEM when the output does not fit (cap or dbuf max),
 * KP_ERR__COMPRESSION for corrupt or truncated compressed input or a codec
 * failure, KP_ERR__INVALID_ARG for a codec number outside 0..4.
 */
#ifndef KP_COMPRESS_H
#define KP_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_err.h"

/* RecordBatch attributes bits 0-2 (CompressionType ids). */
typedef enum kp_codec {
    KP_CODEC_NONE = 0,
    KP_CODEC_GZIP = 1,
    KP_CODEC_SNAPPY = 2,
    KP_CODEC_LZ4 = 3,
    KP_CODEC_ZSTD = 4
} kp_codec;
#define KP_CODEC_COUNT 5

/* "none", "gzip", "snappy", "lz4", "zstd" (compression.type values);
 * "unknown" for anything else. */
const char *kp_codec_name(kp_codec c);
/* Exact, lower-case match as CompressionType.forName. */
bool kp_codec_from_name(const char *s, kp_codec *out);

/* ------------------------------------------------------------------ */
/* kp_dbuf: growable byte buffer with a hard maximum                    */
/* ------------------------------------------------------------------ */

#define KP_DBUF_DEFAULT_MAX (64u * 1024u * 1024u)

typedef struct kp_dbuf {
    uint8_t *ptr; /* malloc'd, NULL until the first growth; owner frees */
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated */
    size_t max;   /* len and cap never exceed this */
} kp_dbuf;

/* Empty buffer; max 0 means KP_DBUF_DEFAULT_MAX. */
void kp_dbuf_init(kp_dbuf *d, size_t max);
/* Frees the memory; the dbuf is empty again (max kept). */
void kp_dbuf_free(kp_dbuf *d);
/* len = 0, memory kept for reuse. */
void kp_dbuf_reset(kp_dbuf *d);
/* Makes cap >= len + extra (growing geometrically, never past max).
 * KP_ERR__NOMEM if len + extra > max or realloc fails; nothing changes. */
kp_err kp_dbuf_reserve(kp_dbuf *d, size_t extra);
kp_err kp_dbuf_append(kp_dbuf *d, const void *p, size_t n);

/* ------------------------------------------------------------------ */
/* Codecs                                                               */
/* ------------------------------------------------------------------ */

/* Largest output kp_compress can produce for len input bytes. */
size_t kp_compress_bound(kp_codec codec, size_t len);

/* Compresses src[0..len) into dst[0..cap); *out_len = bytes written.
 * KP_CODEC_NONE copies. dst and src must not overlap. */
kp_err kp_compress(kp_codec codec, const void *src, size_t len,
                   uint8_t *dst, size_t cap, size_t *out_len);

/* Decompresses src[0..len) and appends the result to out. On error
 * out->len is back to its value at entry (the bytes past it are
 * unspecified). KP_CODEC_NONE appends a copy. */
kp_err kp_decompress(kp_codec codec, const void *src, size_t len, kp_dbuf *out);

#endif
