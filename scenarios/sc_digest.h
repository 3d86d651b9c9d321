/*
 * sc_digest.h — the run digest: every event of a run folded into 64 bits,
 * the determinism proof of `kpsim run` (same scenario + seed => same
 * digest) and the fingerprint a sweep records per seed.
 *
 * What goes in: every field of every event, in order — the 32-bit fields
 * two to a word, the 64-bit fields, the time the runner stamps the event
 * with, and the CONTENT of the topic and detail strings (never a pointer:
 * addresses differ run to run). The value is compared run against run,
 * never against a stored constant, so the function may change between
 * versions; within one build it depends on nothing but the events, and it
 * is the same on every host (the AES-NI path and the portable one give the
 * same value: a unit test runs both).
 *
 * The function (since session 5; before, two multiply lanes per event,
 * ~47 instructions of mixing): a 128-bit state absorbs each event as seven
 * 16-byte blocks, one AES round per block with the block as the round key,
 *     state = AESENC(state, block)  = MixColumns(SubBytes(ShiftRows(state))) ^ block
 * where block k holds two 64-bit words, the first in bytes 0..7, each
 * little-endian:
 *     0: (kind | node << 32, partition | producer_epoch << 32)
 *     1: (batch_id, base_sequence | record_count << 32)
 *     2: (bytes, correlation_id | api_key << 32)
 *     3: (err | attempt << 32, offset)   4: (producer_id, value)
 *     5: (time, topic's hash)            6: (detail's hash, 0)
 * (32-bit fields as their two's-complement bits). For a fixed state the
 * round is a bijection of the block and for a fixed block one of the
 * state, so a change in any one field changes the state, and no later
 * event can undo it but by a collision of the 128-bit state. The value
 * read (sc_digest_value) is two more rounds with constant keys (full
 * diffusion of the last event's blocks) folded to 64 bits. On x86-64 with
 * AES-NI and SSE4.1 (cpuid, at init) a block is one `aesenc`, and blocks
 * 0..4 are the event's first 80 bytes as they are (kp_event's layout:
 * static asserts below), each block built from its fields at their own
 * widths (movd/pinsrd, movq/pinsrq: a whole-block load over the emitter's
 * fresh field stores stalls on store forwarding; see
 * sc_digest__absorb_fields): ~28 instructions of mixing per event.
 * Elsewhere a table-driven round written from FIPS-197 gives the same
 * bytes, ~20 times slower.
 *   - a string is hashed once into a 64-bit content hash (length, then   - a string is hashed once into a 64-bit content hash (length, then
 *     eight bytes at a time with little-endian loads, so the value does not
 *     depend on the host), and that hash goes into its block as one word.
 *   - strings in read-only memory (the executable's non-writable PT_LOAD
 *     segments: string literals, which most details are — "doSend",
 *     "sticky", "Sender.sendProduceRequest") cannot change while the
 *     process lives, so their content hash is cached by address in a small
 *     two-way set-associative table. Any other string (heap, stack, a buffer an
 *     emitter formats into) is hashed from its bytes every time: an
 *     address there says nothing about the content. The cache only saves
 *     work; hit or miss, a string contributes the hash of its content, so
 *     the digest is the same whatever the cache holds (a unit test checks
 *     that a literal and a heap copy of it give the same digest, and that
 *     rewriting a buffer in place changes it).
 *   - strings the caller pins (sc_digest_pin: it vouches that they keep
 *     address and bytes until sc_digest_unpin_all) are cached the same way:
 *     the topic names of every record's events, heap copies that would
 *     otherwise be compared with strcmp against the last topic on every
 *     event (2.6M Ir of 91M for 20,000 throughput records before).
 * Measured on the throughput workload: the observer's string hashing was
 * 7.4M Ir + 2.6M Ir of strlen (20,000 records) before the cache.
 *
 * Memory: sc_digest is a plain value (about 16 KB: the cache), embedded by
 * its user and initialised with sc_digest_init; nothing is allocated.
 * Not thread-safe: one digest per run.
 */
#ifndef SC_DIGEST_H
#define SC_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kp_env.h"

#if defined(__x86_64__) && !defined(SC_DIGEST_NO_AESNI)
#define SC_DIGEST_AESNI 1
#include <emmintrin.h>
#else
#define SC_DIGEST_AESNI 0
#endif

/* How a digest computes its rounds (sc_digest.path), chosen at init. */
enum {
    SC_DIGEST_PATH_PORTABLE = 0, /* sc_digest_aes_round */
    SC_DIGEST_PATH_AES = 1,      /* aesenc (AES-NI and SSE4.1) */
    SC_DIGEST_PATH_AES_VEX = 2   /* the same code, on a CPU with AVX too */
};

#define SC_DIGEST_K 0x9e3779b97f4a7c15ULL
#define SC_DIGEST_K2 0xc2b2ae3d27d4eb4fULL
#define SC_DIGEST_CACHE 1024  /* entries of the address -> hash cache (2 x 512 sets) */
#define SC_DIGEST_RO_MAX 8    /* read-only ranges of the executable remembered */
#define SC_DIGEST_PINS 16     /* pinned strings remembered */

typedef struct sc_digest {
    uint64_t st[2];           /* the state: bytes 0..7 little-endian in st[0], 8..15 in st[1] */
    int path;                 /* SC_DIGEST_PATH_*: how the rounds are computed (same values) */
    /* read-only memory: [ro_lo, ro_lo + ro_len) bounds every range */
    uintptr_t ro_lo, ro_len;
    int nro;
    struct {
        uintptr_t lo, hi;
    } ro[SC_DIGEST_RO_MAX];
    struct {
        const char *s;        /* NULL: empty slot */
        uint64_t h;           /* sc_digest_string_hash(s) */
    } cache[SC_DIGEST_CACHE];
    /* the last topic that was not immutable, by content: topics are few,
     * and the producer's and broker's copies of a name sit at different
     * addresses, so a match is found with strcmp, never by address */
    char topic_text[32];      /* "" and topic_len 0: none yet */
    size_t topic_len;
    uint64_t topic_h;
    uint64_t stored;          /* immutable strings hashed and cached (tests) */
    /* strings the user vouches for (sc_digest_pin): cached like read-only
     * ones while pinned */
    const char *pins[SC_DIGEST_PINS];
    int npins;
} sc_digest;

/* Starts an empty digest and finds the read-only ranges of the running
 * executable (dl_iterate_phdr); takes the fastest path the CPU has. */
void sc_digest_init(sc_digest *d);
/* sc_digest_init on the given path (SC_DIGEST_PATH_*) whatever the CPU
 * has, for tests (every path must give the same values); false, and the
 * digest left on the path sc_digest_init would take, when the CPU cannot
 * run that one. */
bool sc_digest_init_path(sc_digest *d, int path);

/* The digest of the events folded in so far (does not change the state:
 * more events may follow). */
uint64_t sc_digest_value(const sc_digest *d);

/* One AES encryption round (AESENC: ShiftRows, SubBytes, MixColumns, then
 * the round key XORed in) on 16 bytes in place, portable; the tests check
 * it against FIPS-197 and against the instruction. */
void sc_digest_aes_round(uint8_t s[16], const uint8_t key[16]);

/* Declares that s (NUL-terminated) keeps its address and its bytes until
 * sc_digest_unpin_all: it is then hashed once and found by address, like a
 * string literal. The runner pins the topic names that every record's
 * events carry (the scenario's and each producer's interned copy): heap
 * strings, which were compared with the last topic by strcmp on every
 * event. False when the pin table is full (the string is then simply
 * hashed by content, as any other). */
bool sc_digest_pin(sc_digest *d, const char *s);
/* Forgets every pin (and the cache entries of pinned strings): call it
 * before a pinned string may be freed or rewritten. */
void sc_digest_unpin_all(sc_digest *d);

/* The content hash of a NUL-terminated string (its length and every
 * byte); a function of the bytes only. */
uint64_t sc_digest_string_hash(const char *s);

/* True when s lies in read-only memory of the executable (its content
 * cannot change while the process lives). */
static inline int sc_digest_immutable(const sc_digest *d, const char *s) {
    uintptr_t a = (uintptr_t)s;
    if (a - d->ro_lo >= d->ro_len)
        return 0;
    for (int i = 0; i < d->nro; i++)
        if (a >= d->ro[i].lo && a < d->ro[i].hi)
            return 1;
    return 0;
}

/* The out-of-line halves of sc_digest_str: hash s, caching when it is
 * immutable; the topic's also compares with the last topic. */
uint64_t sc_digest__str_slow(sc_digest *d, const char *s);
uint64_t sc_digest__topic_slow(sc_digest *d, const char *s);

/* The cache is two-way set associative: a literal that shares a set with
 * another hot one must not evict it on every event. The set is address
 * bits 4..12 (a shift and an AND): the bits below would put the pinned
 * heap strings, 16-byte aligned, in 32 of the 512 sets (two pins then
 * shared a set, and a hot literal there was never cached); a
 * multiplicative hash spreads both but costs two instructions more per
 * string. Literals starting in the same 16 bytes share a set, two ways. */
static inline size_t sc_digest__set(const char *s) {
    return (size_t)((uintptr_t)s >> 4 & (SC_DIGEST_CACHE / 2 - 1)) * 2;
}

/* What s contributes when that is known without a call: NULL (1) or a
 * string in the cache (only immutable and pinned strings are ever
 * stored). False otherwise (*h is then unset). NULL needs no test of its
 * own: it falls in set 0, whose first way is reserved for it, (NULL, 1),
 * and never given to a string (an empty slot is (NULL, h) too, but only
 * NULL ever probes set 0 for NULL). */
static inline bool sc_digest__known(const sc_digest *d, const char *s, uint64_t *h) {
    size_t i = sc_digest__set(s);
    if (__builtin_expect(d->cache[i].s == s, 1)) { /* the first way, laid out straight */
        *h = d->cache[i].h;
        return true;
    }
    if (d->cache[i + 1].s == s) {
        *h = d->cache[i + 1].h;
        return true;
    }
    return false;
}

/* What a string contributes: its content hash; NULL contributes the
 * constant 1 ("" hashes its length 0 like any other string, so NULL and ""
 * differ unless a 64-bit hash happens to be 1). */
static inline uint64_t sc_digest_str(sc_digest *d, const char *s, int topic) {
    uint64_t h;
    if (sc_digest__known(d, s, &h))
        return h;
    if (!topic)
        return sc_digest__str_slow(d, s);
    if (d->topic_len && !strcmp(s, d->topic_text))
        return d->topic_h;
    return sc_digest__topic_slow(d, s);
}

static inline uint64_t sc_digest_word(uint64_t h, uint64_t v) {
    return (h ^ v) * SC_DIGEST_K;
}

static inline uint64_t sc_digest_fold(uint64_t h) {
    return h ^ (h >> 29);
}

/* 32-bit fields two to a word: every field still reaches the digest. */
static inline uint64_t sc_digest_pair(int64_t lo, int64_t hi) {
    return (uint64_t)(uint32_t)lo | (uint64_t)(uint32_t)hi << 32;
}

#if SC_DIGEST_AESNI
/* The AES-NI paths read blocks 0..4 straight from the event: on a
 * little-endian host these bytes are exactly the blocks' words. */
#define SC_DIGEST_AT(f, off) _Static_assert(offsetof(kp_event, f) == (off), #f " sits where the digest reads it")
SC_DIGEST_AT(kind, 0);
SC_DIGEST_AT(node, 4);
SC_DIGEST_AT(partition, 8);
SC_DIGEST_AT(producer_epoch, 12);
SC_DIGEST_AT(batch_id, 16);
SC_DIGEST_AT(base_sequence, 24);
SC_DIGEST_AT(record_count, 28);
SC_DIGEST_AT(bytes, 32);
SC_DIGEST_AT(correlation_id, 40);
SC_DIGEST_AT(api_key, 44);
SC_DIGEST_AT(err, 48);
SC_DIGEST_AT(attempt, 52);
SC_DIGEST_AT(offset, 56);
SC_DIGEST_AT(producer_id, 64);
SC_DIGEST_AT(value, 72);
_Static_assert(sizeof(int) == 4 && sizeof(kp_err) == 4, "kind and err are 32-bit fields");
#endif

/* The portable half of sc_digest__mix (out of line). */
void sc_digest__mix_portable(sc_digest *d, const kp_event *ev, kp_time_us time_us, uint64_t topic_h,
                             uint64_t detail_h);

#if SC_DIGEST_AESNI
/* One AESENC round (inline assembly: no target attribute needed, so it
 * inlines into any caller; it runs only on a path that init chose because
 * the CPU has it). */
static inline __m128i sc_digest__aesenc(__m128i s, __m128i key) {
    __asm__("aesenc %1, %0" : "+x"(s) : "x"(key));
    return s;
}

/* Blocks 0..4 of the event, each field loaded at the width it was stored
 * (movd/pinsrd for a 32-bit field, movq/pinsrq for a 64-bit one; SSE4.1,
 * which every AES-NI CPU has and init checks). The emitter fills the event
 * field by field just before the observer digests it, and one 16-byte load
 * over four 4-byte stores still in the store buffer cannot be forwarded
 * from them: it waits for them to reach the cache (~12-15 cycles, five
 * times per event). Measured with perf on throughput 1M records: the
 * observer sc_on_event 31% of cycles with whole-block loads (vaesenc with
 * a memory operand), 10% with these. The blocks' bytes are the same (the
 * layout asserts above), and both AES-NI paths load them this way. */
static inline __attribute__((always_inline)) __m128i sc_digest__absorb_fields(__m128i s, const kp_event *ev,
                                                                              bool vex) {
    __m128i b0, b1, b2, b3, b4;
    (void)vex;
    __asm__("movd %1, %0\n\tpinsrd $1, %2, %0\n\tpinsrd $2, %3, %0\n\tpinsrd $3, %4, %0"
            : "=x"(b0)
            : "m"(ev->kind), "m"(ev->node), "m"(ev->partition), "m"(ev->producer_epoch));
    __asm__("movq %1, %0\n\tpinsrd $2, %2, %0\n\tpinsrd $3, %3, %0"
            : "=x"(b1)
            : "m"(ev->batch_id), "m"(ev->base_sequence), "m"(ev->record_count));
    __asm__("movq %1, %0\n\tpinsrd $2, %2, %0\n\tpinsrd $3, %3, %0"
            : "=x"(b2)
            : "m"(ev->bytes), "m"(ev->correlation_id), "m"(ev->api_key));
    __asm__("movd %1, %0\n\tpinsrd $1, %2, %0\n\tpinsrq $1, %3, %0"
            : "=x"(b3)
            : "m"(ev->err), "m"(ev->attempt), "m"(ev->offset));
    __asm__("movq %1, %0\n\tpinsrq $1, %2, %0" : "=x"(b4) : "m"(ev->producer_id), "m"(ev->value));
    s = sc_digest__aesenc(s, b0);
    s = sc_digest__aesenc(s, b1);
    s = sc_digest__aesenc(s, b2);
    s = sc_digest__aesenc(s, b3);
    s = sc_digest__aesenc(s, b4);
    return s;
}

static inline __attribute__((always_inline)) void sc_digest__mix_hw(sc_digest *d, const kp_event *ev,
                                                                   kp_time_us time_us, uint64_t topic_h,
                                                                   uint64_t detail_h, bool vex) {
    __m128i s = sc_digest__absorb_fields(_mm_loadu_si128((const __m128i *)d->st), ev, vex);
    s = sc_digest__aesenc(s, _mm_unpacklo_epi64(_mm_cvtsi64_si128((long long)time_us),
                                                _mm_cvtsi64_si128((long long)topic_h)));
    s = sc_digest__aesenc(s, _mm_cvtsi64_si128((long long)detail_h));
    _mm_storeu_si128((__m128i *)d->st, s);
}
#endif

/* The mixing half of sc_digest_event: folds one event in, its topic and
 * detail given as their contributions (sc_digest_str of each). */
static inline void sc_digest__mix(sc_digest *d, const kp_event *ev, kp_time_us time_us, uint64_t topic_h,
                                  uint64_t detail_h) {
#if SC_DIGEST_AESNI
    if (d->path == SC_DIGEST_PATH_AES_VEX) {
        sc_digest__mix_hw(d, ev, time_us, topic_h, detail_h, true);
        return;
    }
    if (d->path == SC_DIGEST_PATH_AES) {
        sc_digest__mix_hw(d, ev, time_us, topic_h, detail_h, false);
        return;
    }
#endif
    sc_digest__mix_portable(d, ev, time_us, topic_h, detail_h);
}

/* Folds one event in; `time_us` replaces ev->time_us (the runner stamps
 * events with the world's time). */
static inline void sc_digest_event(sc_digest *d, const kp_event *ev, kp_time_us time_us) {
    uint64_t th = sc_digest_str(d, ev->topic, 1);
    sc_digest__mix(d, ev, time_us, th, sc_digest_str(d, ev->detail, 0));
}

/* sc_digest_event without a call on its common path: when the event's
 * topic and detail are both NULL or cached (and the digest is on an
 * AES-NI path) it folds the event in and returns true; otherwise it changes nothing and returns false, and the
 * caller passes the event to sc_digest_event_slow. The split lets a hot
 * caller (the runner's observer, on every event of a run) keep its common
 * path free of calls, so the compiler need not save registers for it:
 * 14 of its ~105 instructions per event went to that prologue and
 * epilogue. Either path adds the same value. */
static inline bool sc_digest_event_try(sc_digest *d, const kp_event *ev, kp_time_us time_us) {
#if SC_DIGEST_AESNI
    uint64_t th, dh;
    if (d->path == SC_DIGEST_PATH_PORTABLE || !sc_digest__known(d, ev->topic, &th) ||
        !sc_digest__known(d, ev->detail, &dh))
        return false;
    sc_digest__mix_hw(d, ev, time_us, th, dh, d->path == SC_DIGEST_PATH_AES_VEX);
    return true;
#else
    (void)d, (void)ev, (void)time_us;
    return false;
#endif
}

#if SC_DIGEST_AESNI
/* sc_digest_event_try for a digest known to be on an AES-NI path, `vex`
 * (a constant) saying which: the caller chose this function by d->path,
 * so it is not asked per event. */
static inline __attribute__((always_inline)) bool sc_digest_event_try_hw(sc_digest *d, const kp_event *ev,
                                                                        kp_time_us time_us, bool vex) {
    uint64_t th, dh;
    if (!sc_digest__known(d, ev->topic, &th) || !sc_digest__known(d, ev->detail, &dh))
        return false;
    sc_digest__mix_hw(d, ev, time_us, th, dh, vex);
    return true;
}
#endif

/* sc_digest_event, out of line (for the events sc_digest_event_try
 * declined). */
void sc_digest_event_slow(sc_digest *d, const kp_event *ev, kp_time_us time_us);

#endif
