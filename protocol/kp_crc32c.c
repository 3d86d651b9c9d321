/*
 * kp_crc32c.c — CRC32C, table and SSE4.2 implementations (see kp_crc32c.h).
 *
 * Conventions inside this file: a "register" is the raw reflected CRC state
 * (no pre/post inversion). The public functions take and return finished
 * CRCs and invert on the way in and out. Polynomials over GF(2) are held
 * reflected: bit 31 is x^0, bit 0 is x^31.
 */
#include "kp_crc32c.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KP_CRC32C_X86 1
#include <nmmintrin.h>
#include <wmmintrin.h>
#else
#define KP_CRC32C_X86 0
#endif

#define KP_CRC32C_POLY 0x82F63B78u

/* Interleaving block sizes for the hardware path: three streams of LONG
 * bytes, then three of SHORT, then the tail one stream at a time. */
#define KP_CRC32C_LONG 8192
#define KP_CRC32C_SHORT 256
/* Below 3 * LONG, from MID_MIN bytes on and with PCLMULQDQ: three streams
 * of a third each (a multiple of 8 bytes), joined by carry-less
 * multiplications, then the tail of under 24 bytes. */
#define KP_CRC32C_MID_MIN 72

/* slicing-by-8: kp_crc32c_tab[k][b] is the register after feeding byte b
 * followed by k zero bytes into a zero register. */
static uint32_t kp_crc32c_tab[8][256];
/* x^(2^k) mod P, k = 0..63, for shifting by arbitrary lengths. */
static uint32_t kp_crc32c_x2n[64];
/* Register-shift tables: feeding LONG (SHORT) zero bytes into register r
 * gives XOR over k of shift[k][byte k of r]. */
static uint32_t kp_crc32c_shift_long[4][256];
static uint32_t kp_crc32c_shift_short[4][256];
/* kp_crc32c_kmul[m] = x^(64 m - 33) mod P, m = 1..63: the factor whose
 * carry-less product with a register, reduced by crc32q (which multiplies
 * by x^33 on the way: x^32 for the instruction, x for the product's
 * 63-bit reflected width), appends 8 m zero bytes to it. */
static uint32_t kp_crc32c_kmul[64];
/* kp_crc32c_kmul_hi[a] = x^(4096 a - 33) mod P, a = 1..31: the same for
 * 512 a zero bytes. A shift by 8 m bytes, m < 2048, is the one by
 * 8 (m mod 64) bytes, then the one by 512 (m / 64) (each where not 0). */
#define KP_CRC32C_KMUL_HI 32
static uint32_t kp_crc32c_kmul_hi[KP_CRC32C_KMUL_HI];
static bool kp_crc32c_ready;
static bool kp_crc32c_have_hw;
static bool kp_crc32c_have_clmul; /* SSE4.2 and PCLMULQDQ */

/* ---- GF(2) arithmetic mod P (reflected) ----------------------------- */

/* a * b mod P. */
static uint32_t kp_crc32c_mulmod(uint32_t a, uint32_t b) {
    uint32_t m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ KP_CRC32C_POLY : b >> 1;
    }
    return p;
}

/* x^n mod P, n in bits. */
static uint32_t kp_crc32c_xn(uint64_t n) {
    uint32_t p = 1u << 31; /* x^0 */
    unsigned k = 0;
    while (n) {
        if (n & 1)
            p = kp_crc32c_mulmod(kp_crc32c_x2n[k & 63], p);
        n >>= 1;
        k++;
    }
    return p;
}

/* x^(8 n) mod P: the operator "append n zero bytes" (n bytes are 8 n
 * bits; lengths are far below 2^61 bytes). */
static uint32_t kp_crc32c_x8n(uint64_t n) {
    return kp_crc32c_xn(n << 3);
}

/* Multiplying by op is linear over GF(2): the entry of b is the XOR of
 * the entries of its bits, so each row needs 8 products (one per bit)
 * and the rest are one XOR each (b = its lowest bit + the rest). With a
 * product per entry this fill was ~740k instructions of every start. */
static void kp_crc32c_fill_shift(uint32_t tab[4][256], uint64_t nbytes) {
    uint32_t op = kp_crc32c_x8n(nbytes);
    for (int k = 0; k < 4; k++) {
        tab[k][0] = 0;
        for (uint32_t b = 1; b < 256; b++) {
            uint32_t low = b & (0u - b);
            tab[k][b] = b == low ? kp_crc32c_mulmod(op, b << (8 * k)) : tab[k][low] ^ tab[k][b ^ low];
        }
    }
}

static inline uint32_t kp_crc32c_shift(const uint32_t tab[4][256], uint32_t r) {
    return tab[0][r & 0xff] ^ tab[1][(r >> 8) & 0xff] ^
           tab[2][(r >> 16) & 0xff] ^ tab[3][r >> 24];
}

static void kp_crc32c_init(void) {
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t r = b;
        for (int i = 0; i < 8; i++)
            r = (r & 1) ? (r >> 1) ^ KP_CRC32C_POLY : r >> 1;
        kp_crc32c_tab[0][b] = r;
    }
    for (uint32_t b = 0; b < 256; b++)
        for (int k = 1; k < 8; k++) {
            uint32_t prev = kp_crc32c_tab[k - 1][b];
            kp_crc32c_tab[k][b] = (prev >> 8) ^ kp_crc32c_tab[0][prev & 0xff];
        }
    kp_crc32c_x2n[0] = 1u << 30; /* x^1 */
    for (int k = 1; k < 64; k++)
        kp_crc32c_x2n[k] = kp_crc32c_mulmod(kp_crc32c_x2n[k - 1], kp_crc32c_x2n[k - 1]);
    kp_crc32c_fill_shift(kp_crc32c_shift_long, KP_CRC32C_LONG);
    kp_crc32c_fill_shift(kp_crc32c_shift_short, KP_CRC32C_SHORT);
    for (uint64_t m = 1; m < 64; m++)
        kp_crc32c_kmul[m] = kp_crc32c_xn(64 * m - 33);
    kp_crc32c_kmul_hi[1] = kp_crc32c_xn(4096 - 33);
    for (int a = 2; a < KP_CRC32C_KMUL_HI; a++) /* times x^4096 = x^(2^12) */
        kp_crc32c_kmul_hi[a] = kp_crc32c_mulmod(kp_crc32c_kmul_hi[a - 1], kp_crc32c_x2n[12]);
#if KP_CRC32C_X86
    __builtin_cpu_init();
    kp_crc32c_have_hw = __builtin_cpu_supports("sse4.2");
    kp_crc32c_have_clmul = kp_crc32c_have_hw && __builtin_cpu_supports("pclmul");
#endif
    kp_crc32c_ready = true;
}

/* Filled before main so that no two threads ever race on the first call. */
__attribute__((constructor)) static void kp_crc32c_ctor(void) {
    if (!kp_crc32c_ready)
        kp_crc32c_init();
}

static inline void kp_crc32c_ensure(void) {
    if (!kp_crc32c_ready)
        kp_crc32c_init();
}

/* ---- slicing-by-8 ---------------------------------------------------- */

static uint32_t kp_crc32c_sw_raw(uint32_t r, const uint8_t *p, size_t n) {
    const uint32_t (*t)[256] = kp_crc32c_tab;
    while (n && ((uintptr_t)p & 7)) {
        r = t[0][(r ^ *p++) & 0xff] ^ (r >> 8);
        n--;
    }
    while (n >= 8) {
        uint32_t lo = r ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                           (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
                      (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        r = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^
            t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
            t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
            t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        r = t[0][(r ^ *p++) & 0xff] ^ (r >> 8);
    return r;
}

uint32_t kp_crc32c_sw(uint32_t crc, const void *data, size_t len) {
    kp_crc32c_ensure();
    if (len == 0)
        return crc;
    return ~kp_crc32c_sw_raw(~crc, data, len);
}

/* ---- SSE4.2 ---------------------------------------------------------- */

#if KP_CRC32C_X86
static inline uint64_t kp_crc32c_load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v; /* x86 is little-endian, which is what crc32q wants */
}

/* One interleaved pass over 3 * blk bytes: streams A, B, C computed in
 * parallel (the instruction has latency 3, throughput 1), then
 * crc(A||B||C) = shift_blk(shift_blk(crcA) ^ crcB) ^ crcC. */
#define KP_CRC32C_HW_BLOCKS(blk, tab)                                       \
    while (n >= 3 * (size_t)(blk)) {                                        \
        uint64_t c1 = 0, c2 = 0;                                            \
        const uint8_t *end = p + (blk);                                     \
        do {                                                                \
            c0 = _mm_crc32_u64(c0, kp_crc32c_load64(p));                    \
            c1 = _mm_crc32_u64(c1, kp_crc32c_load64(p + (blk)));            \
            c2 = _mm_crc32_u64(c2, kp_crc32c_load64(p + 2 * (blk)));        \
            p += 8;                                                         \
        } while (p < end);                                                  \
        c0 = kp_crc32c_shift(tab, (uint32_t)c0) ^ (uint32_t)c1;             \
        c0 = kp_crc32c_shift(tab, (uint32_t)c0) ^ (uint32_t)c2;             \
        p += 2 * (size_t)(blk);                                             \
        n -= 3 * (size_t)(blk);                                             \
    }

/* Loads are unaligned (memcpy), which x86 allows; only the interleaved
 * blocks of long inputs start from an 8-byte boundary (one byte at a
 * time up to it). A short input (the quiet hour's one-record batches) goes
 * eight bytes at a time from its first byte and ends with one 4-, 2- and
 * 1-byte step at most: before, up to 14 of its bytes went one at a time
 * (~100 instructions of a 160-byte batch). */
__attribute__((target("sse4.2"), always_inline))
static inline uint32_t kp_crc32c_hw_serial(uint64_t c0, const uint8_t *p, size_t n) {
    while (n >= 8) {
        c0 = _mm_crc32_u64(c0, kp_crc32c_load64(p));
        p += 8;
        n -= 8;
    }
    uint32_t c = (uint32_t)c0;
    if (n & 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        c = _mm_crc32_u32(c, v);
        p += 4;
    }
    if (n & 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        c = _mm_crc32_u16(c, v);
        p += 2;
    }
    if (n & 1)
        c = _mm_crc32_u8(c, *p);
    return c;
}

static uint32_t kp_crc32c_hw_raw_mid(uint32_t r, const uint8_t *p, size_t n);

/* With PCLMULQDQ, what is left after the long blocks (MID_MIN bytes or
 * more) goes as three thirds (kp_crc32c_hw_raw_mid) instead. */
__attribute__((target("sse4.2")))
static uint32_t kp_crc32c_hw_raw(uint32_t r, const uint8_t *p, size_t n) {
    uint64_t c0 = r;
    if (n >= 3 * (size_t)KP_CRC32C_SHORT) {
        while ((uintptr_t)p & 7) {
            c0 = _mm_crc32_u8((uint32_t)c0, *p++);
            n--;
        }
        KP_CRC32C_HW_BLOCKS(KP_CRC32C_LONG, kp_crc32c_shift_long)
        if (kp_crc32c_have_clmul && n >= KP_CRC32C_MID_MIN)
            return kp_crc32c_hw_raw_mid((uint32_t)c0, p, n);
        KP_CRC32C_HW_BLOCKS(KP_CRC32C_SHORT, kp_crc32c_shift_short)
    }
    return kp_crc32c_hw_serial(c0, p, n);
}

/* r times x^33 k mod P: with k = kp_crc32c_kmul[m], r with 8 m zero
 * bytes appended (1 <= m < 64): one carry-less multiply by k and one
 * crc32q to reduce the 63-bit product. */
__attribute__((target("sse4.2,pclmul"), always_inline))
static inline uint32_t kp_crc32c_shift_clmul_k(uint32_t r, uint32_t k) {
    __m128i prod = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)r), _mm_cvtsi32_si128((int)k), 0);
    return (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(prod));
}

/* r with 8 m zero bytes appended, 1 <= m < 64 * KP_CRC32C_KMUL_HI: one
 * multiplication for m < 64 or a multiple of 64, else two. */
__attribute__((target("sse4.2,pclmul"), always_inline))
static inline uint32_t kp_crc32c_shift_clmul(uint32_t r, size_t m) {
    if (m & 63)
        r = kp_crc32c_shift_clmul_k(r, kp_crc32c_kmul[m & 63]);
    if (m >> 6)
        r = kp_crc32c_shift_clmul_k(r, kp_crc32c_kmul_hi[m >> 6]);
    return r;
}

/* MID_MIN <= n < 3 * LONG (the quiet hour's batches, about 140 bytes at
 * the producer's close and again at the broker's check; throughput's of
 * up to 16 KB): one crc32q after another waits out the instruction's
 * 3-cycle latency, so the first 3 * l bytes (l = n / 24 * 8) go as three
 * independent streams and the registers are joined as
 * crc(A||B||C) = shift_2l(cA) ^ shift_l(cB) ^ cC, both shifts at once.
 * Under perf this was 2.5 times its share of callgrind's instruction
 * count at 140 bytes. From 3 * SHORT on it replaces blocks of 3 * 256
 * bytes joined by table shifts (a 16 KB batch: 21 joins on the first
 * stream's chain, and ~15% more time, than one join here). */
__attribute__((target("sse4.2,pclmul")))
static uint32_t kp_crc32c_hw_raw_mid(uint32_t r, const uint8_t *p, size_t n) {
    size_t l = n / 24 * 8;
    uint64_t c0 = r, c1 = 0, c2 = 0;
    const uint8_t *end = p + l;
    do {
        c0 = _mm_crc32_u64(c0, kp_crc32c_load64(p));
        c1 = _mm_crc32_u64(c1, kp_crc32c_load64(p + l));
        c2 = _mm_crc32_u64(c2, kp_crc32c_load64(p + 2 * l));
        p += 8;
    } while (p < end);
    c0 = kp_crc32c_shift_clmul((uint32_t)c0, l / 4) ^ kp_crc32c_shift_clmul((uint32_t)c1, l / 8) ^
         (uint32_t)c2;
    return kp_crc32c_hw_serial(c0, p + 2 * l, n - 3 * l);
}
#endif

bool kp_crc32c_hw_available(void) {
    kp_crc32c_ensure();
    return kp_crc32c_have_hw;
}

uint32_t kp_crc32c_hw(uint32_t crc, const void *data, size_t len) {
    kp_crc32c_ensure();
    if (len == 0)
        return crc;
#if KP_CRC32C_X86
    if (kp_crc32c_have_clmul && len >= KP_CRC32C_MID_MIN && len < 3 * (size_t)KP_CRC32C_LONG)
        return ~kp_crc32c_hw_raw_mid(~crc, data, len);
    if (kp_crc32c_have_hw)
        return ~kp_crc32c_hw_raw(~crc, data, len);
#endif
    return ~kp_crc32c_sw_raw(~crc, data, len);
}

uint32_t kp_crc32c(uint32_t crc, const void *data, size_t len) {
    return kp_crc32c_hw(crc, data, len);
}

const char *kp_crc32c_impl_name(void) {
    return kp_crc32c_hw_available() ? "sse4.2" : "slicing-by-8";
}

uint32_t kp_crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b) {
    kp_crc32c_ensure();
    return kp_crc32c_mulmod(kp_crc32c_x8n(len_b), crc_a) ^ crc_b;
}
