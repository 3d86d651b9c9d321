/*
 * sc_digest.c — the run digest's string hashing, its read-only-memory
 * cache and its portable AES round (see sc_digest.h for what the digest
 * covers, the function, and why the cache is safe). The S-box is computed
 * before main (a constructor: no thread ever races on it) from its
 * definition, the inverse in GF(2^8) followed by the affine map.
 */
#include "sc_digest.h"

#include <link.h>
#include <string.h>

#include "kp_rng.h"
#include "sc_le.h"

/* ---- read-only memory of the executable ---------------------------------- */

/* dl_iterate_phdr reports the executable first (empty dlpi_name); only its
 * segments matter: the literals the layers put in events are compiled into
 * it. A PT_LOAD segment without PF_W is mapped read-only for the life of
 * the process (nothing in kpsim calls mprotect). */
static int sc_digest_phdr_cb(struct dl_phdr_info *info, size_t size, void *ctx) {
    (void)size;
    sc_digest *d = ctx;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) || ph->p_memsz == 0)
            continue;
        uintptr_t lo = (uintptr_t)(info->dlpi_addr + ph->p_vaddr);
        uintptr_t hi = lo + (uintptr_t)ph->p_memsz;
        if (d->nro > 0 && d->ro[d->nro - 1].hi == lo) {
            d->ro[d->nro - 1].hi = hi; /* adjacent: one range */
            continue;
        }
        if (d->nro == SC_DIGEST_RO_MAX)
            break; /* more ranges only cost cache hits, never correctness */
        d->ro[d->nro].lo = lo;
        d->ro[d->nro].hi = hi;
        d->nro++;
    }
    return 1; /* the executable only */
}

static void sc_digest__init(sc_digest *d, int path) {
    memset(d, 0, sizeof *d);
    d->st[0] = KP_FNV1A64_INIT;
    d->st[1] = SC_DIGEST_K;
    d->path = path;
    d->cache[0].h = 1; /* set 0's first way: NULL's (sc_digest__known) */
    dl_iterate_phdr(sc_digest_phdr_cb, d);
    if (d->nro > 0) {
        uintptr_t lo = d->ro[0].lo, hi = d->ro[0].hi;
        for (int i = 1; i < d->nro; i++) {
            if (d->ro[i].lo < lo)
                lo = d->ro[i].lo;
            if (d->ro[i].hi > hi)
                hi = d->ro[i].hi;
        }
        d->ro_lo = lo;
        d->ro_len = hi - lo;
    }
}

/* The fastest path this CPU runs: the AES-NI paths want SSE4.1 too (the
 * blocks are built with pinsrd/pinsrq; every AES-NI CPU has it).
 * __builtin_cpu_supports("avx") also asks the OS: XSAVE enabled for the
 * AVX state. */
static int sc_digest__best_path(void) {
#if SC_DIGEST_AESNI
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("aes") || !__builtin_cpu_supports("sse4.1"))
        return SC_DIGEST_PATH_PORTABLE;
    return __builtin_cpu_supports("avx") ? SC_DIGEST_PATH_AES_VEX : SC_DIGEST_PATH_AES;
#else
    return SC_DIGEST_PATH_PORTABLE;
#endif
}

void sc_digest_init(sc_digest *d) {
    sc_digest__init(d, sc_digest__best_path());
}

bool sc_digest_init_path(sc_digest *d, int path) {
    int best = sc_digest__best_path();
    bool ok = path >= SC_DIGEST_PATH_PORTABLE && path <= best;
    sc_digest__init(d, ok ? path : best);
    return ok;
}

/* ---- the AES round, portable ------------------------------------------------- */

static uint8_t sc_digest_sbox[256];

/* Multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1. */
static uint8_t sc_digest__xtime(uint8_t a) {
    return (uint8_t)(a << 1 ^ (a & 0x80 ? 0x1b : 0));
}

__attribute__((constructor)) static void sc_digest_sbox_ctor(void) {
    /* powers of the generator 3 give every non-zero element and, read
     * backwards, its inverse: 3^i * 3^(255-i) = 1 */
    uint8_t pow3[255];
    uint8_t x = 1;
    for (int i = 0; i < 255; i++) {
        pow3[i] = x;
        x = (uint8_t)(x ^ sc_digest__xtime(x)); /* x * 3 */
    }
    sc_digest_sbox[0] = 0x63;
    for (int i = 0; i < 255; i++) {
        uint8_t inv = pow3[(255 - i) % 255];
        uint8_t b = inv;
        for (int r = 1; r <= 4; r++)
            b ^= (uint8_t)(inv << r | inv >> (8 - r));
        sc_digest_sbox[pow3[i]] = (uint8_t)(b ^ 0x63);
    }
}

void sc_digest_aes_round(uint8_t s[16], const uint8_t key[16]) {
    /* byte 4c + r is row r of column c; ShiftRows moves row r left by r
     * columns, SubBytes goes with it */
    uint8_t t[16];
    for (int c = 0; c < 4; c++)
        for (int r = 0; r < 4; r++)
            t[4 * c + r] = sc_digest_sbox[s[4 * ((c + r) & 3) + r]];
    for (int c = 0; c < 4; c++) {
        uint8_t *a = &t[4 * c];
        uint8_t all = (uint8_t)(a[0] ^ a[1] ^ a[2] ^ a[3]);
        uint8_t a0 = a[0];
        /* b_r = 2 a_r + 3 a_(r+1) + a_(r+2) + a_(r+3) = a_r + all + 2 (a_r + a_(r+1)) */
        s[4 * c + 0] = (uint8_t)(a[0] ^ all ^ sc_digest__xtime((uint8_t)(a[0] ^ a[1])) ^ key[4 * c + 0]);
        s[4 * c + 1] = (uint8_t)(a[1] ^ all ^ sc_digest__xtime((uint8_t)(a[1] ^ a[2])) ^ key[4 * c + 1]);
        s[4 * c + 2] = (uint8_t)(a[2] ^ all ^ sc_digest__xtime((uint8_t)(a[2] ^ a[3])) ^ key[4 * c + 2]);
        s[4 * c + 3] = (uint8_t)(a[3] ^ all ^ sc_digest__xtime((uint8_t)(a[3] ^ a0)) ^ key[4 * c + 3]);
    }
}

static void sc_digest__put(uint8_t *b, uint64_t lo, uint64_t hi) {
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(lo >> (8 * i));
        b[8 + i] = (uint8_t)(hi >> (8 * i));
    }
}

static void sc_digest__absorb(uint8_t s[16], uint64_t lo, uint64_t hi) {
    uint8_t k[16];
    sc_digest__put(k, lo, hi);
    sc_digest_aes_round(s, k);
}

void sc_digest__mix_portable(sc_digest *d, const kp_event *ev, kp_time_us time_us, uint64_t topic_h,
                             uint64_t detail_h) {
    uint8_t s[16];
    sc_digest__put(s, d->st[0], d->st[1]);
    sc_digest__absorb(s, sc_digest_pair(ev->kind, ev->node), sc_digest_pair(ev->partition, ev->producer_epoch));
    sc_digest__absorb(s, (uint64_t)ev->batch_id, sc_digest_pair(ev->base_sequence, ev->record_count));
    sc_digest__absorb(s, (uint64_t)ev->bytes, sc_digest_pair(ev->correlation_id, ev->api_key));
    sc_digest__absorb(s, sc_digest_pair(ev->err, ev->attempt), (uint64_t)ev->offset);
    sc_digest__absorb(s, (uint64_t)ev->producer_id, (uint64_t)ev->value);
    sc_digest__absorb(s, (uint64_t)time_us, topic_h);
    sc_digest__absorb(s, detail_h, 0);
    d->st[0] = sc_le64(s);
    d->st[1] = sc_le64(s + 8);
}

uint64_t sc_digest_value(const sc_digest *d) {
    /* two rounds with constant keys spread the last blocks over every byte
     * before the fold (the same on both paths: the state's bytes are
     * little-endian on the hardware one) */
    uint8_t s[16];
    sc_digest__put(s, d->st[0], d->st[1]);
    sc_digest__absorb(s, SC_DIGEST_K, SC_DIGEST_K2);
    sc_digest__absorb(s, SC_DIGEST_K2, SC_DIGEST_K);
    return sc_le64(s) ^ sc_le64(s + 8);
}

/* ---- content hash ------------------------------------------------------------ */

uint64_t sc_digest_string_hash(const char *s) {
    size_t n = strlen(s);
    uint64_t h = sc_digest_word(SC_DIGEST_K2, (uint64_t)n);
    uint64_t tail = 0;
    if (n >= 8) {
        const char *p = s;
        size_t left = n;
        for (; left > 8; left -= 8, p += 8)
            h = sc_digest_word(h, sc_le64(p));
        tail = sc_le64(s + n - 8); /* the last eight bytes (may overlap the last word) */
    } else if (n >= 4) { /* two overlapping 4-byte loads cover every byte */
        tail = (uint64_t)sc_le32(s) | (uint64_t)sc_le32(s + n - 4) << 32;
    } else if (n > 0) { /* first, middle, last: every byte of 1..3 */
        const unsigned char *p = (const unsigned char *)s;
        tail = (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16;
    }
    return sc_digest_fold(sc_digest_word(h, tail));
}

static bool sc_digest__pinned(const sc_digest *d, const char *s) {
    for (int i = 0; i < d->npins; i++)
        if (d->pins[i] == s)
            return true;
    return false;
}

/* A cache entry that must stay: a pinned string (an immutable one is
 * cached again whenever it is met). */
static bool sc_digest__evictless(const sc_digest *d, const char *s) {
    return s && !sc_digest_immutable(d, s) && sc_digest__pinned(d, s);
}

bool sc_digest_pin(sc_digest *d, const char *s) {
    if (!s)
        return false;
    if (!sc_digest__pinned(d, s)) {
        if (d->npins == SC_DIGEST_PINS)
            return false;
        d->pins[d->npins++] = s;
    }
    /* into the cache now (unless it is there): the fast path finds a topic
     * equal to the last one by content before it would look further */
    uint64_t h;
    if (!sc_digest__known(d, s, &h))
        (void)sc_digest__str_slow(d, s);
    return true;
}

void sc_digest_unpin_all(sc_digest *d) {
    for (size_t i = 0; i < SC_DIGEST_CACHE; i++)
        if (d->cache[i].s && !sc_digest_immutable(d, d->cache[i].s))
            d->cache[i].s = NULL;
    d->npins = 0;
}

uint64_t sc_digest__str_slow(sc_digest *d, const char *s) {
    uint64_t h = sc_digest_string_hash(s);
    if (sc_digest_immutable(d, s) || sc_digest__pinned(d, s)) {
        /* the newest goes first, the older of the set moves to the second
         * way; in set 0 the first way stays NULL's. A pinned string is
         * never evicted: it is cached when pinned and, as a topic, may not
         * come back here (sc_digest_str answers an equal last topic by
         * strcmp), so losing its entry would send every later event with
         * it down the slow path (80,000 events of the quiet hour's 370,000
         * in one build's layout). A set holding two pins caches nothing
         * else. */
        size_t i = sc_digest__set(s);
        bool keep0 = i == 0 || sc_digest__evictless(d, d->cache[i].s);
        bool keep1 = sc_digest__evictless(d, d->cache[i + 1].s);
        if (keep0 && keep1)
            return h;
        if (keep0)
            i++;
        else if (!keep1)
            d->cache[i + 1] = d->cache[i];
        d->cache[i].s = s;
        d->cache[i].h = h;
        d->stored++;
    }
    return h;
}

uint64_t sc_digest__topic_slow(sc_digest *d, const char *s) {
    if (sc_digest_immutable(d, s) || sc_digest__pinned(d, s))
        return sc_digest__str_slow(d, s);
    uint64_t h = sc_digest_string_hash(s);
    size_t n = strlen(s);
    if (n > 0 && n < sizeof d->topic_text) {
        memcpy(d->topic_text, s, n + 1);
        d->topic_len = n;
        d->topic_h = h;
    }
    return h;
}

void sc_digest_event_slow(sc_digest *d, const kp_event *ev, kp_time_us time_us) {
    sc_digest_event(d, ev, time_us);
}
