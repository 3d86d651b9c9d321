/*
 * test_digest.c — the run digest (scenarios/sc_digest.c): every field of
 * every event reaches it; strings count by content, never by address, and
 * the read-only-memory cache never serves a stale hash; the AES-NI and the
 * portable paths give the same value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sc_digest.h"

static kp_event base_event(void) {
    kp_event ev;
    kp_event_init(&ev, 140, 1000);
    ev.node = 1;
    ev.topic = "orders";
    ev.partition = 2;
    ev.batch_id = 3;
    ev.base_sequence = 4;
    ev.record_count = 5;
    ev.bytes = 6;
    ev.correlation_id = 7;
    ev.api_key = 8;
    ev.err = 9;
    ev.attempt = 10;
    ev.offset = 11;
    ev.producer_id = 12;
    ev.producer_epoch = 13;
    ev.value = 14;
    ev.detail = "doSend";
    return ev;
}

static int path = -1; /* digest_of on this SC_DIGEST_PATH_* (-1: sc_digest_init's) */

static uint64_t digest_of(const kp_event *evs, size_t n) {
    sc_digest d;
    if (path < 0)
        sc_digest_init(&d);
    else
        assert_true(sc_digest_init_path(&d, path));
    for (size_t i = 0; i < n; i++)
        sc_digest_event(&d, &evs[i], evs[i].time_us);
    return sc_digest_value(&d);
}

static char *dup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

/* Changing any one field of an event changes the digest (on every path). */
static void every_field_counts_on(int p) {
    path = p;
    kp_event ev = base_event();
    uint64_t h0 = digest_of(&ev, 1);
    for (int f = 0; f < 18; f++) {
        kp_event e = base_event();
        switch (f) {
        case 0: e.kind++; break;
        case 1: e.time_us++; break;
        case 2: e.node++; break;
        case 3: e.topic = "orderz"; break;
        case 4: e.partition++; break;
        case 5: e.batch_id += INT64_C(1) << 40; break;
        case 6: e.base_sequence++; break;
        case 7: e.record_count++; break;
        case 8: e.bytes += INT64_C(1) << 50; break;
        case 9: e.correlation_id++; break;
        case 10: e.api_key++; break;
        case 11: e.err++; break;
        case 12: e.attempt++; break;
        case 13: e.offset++; break;
        case 14: e.producer_id += INT64_C(1) << 33; break;
        case 15: e.producer_epoch++; break;
        case 16: e.value = -1; break;
        case 17: e.detail = "doSenD"; break;
        }
        assert_true(digest_of(&e, 1) != h0);
    }
    /* the order of events counts too */
    kp_event two[2] = { base_event(), base_event() };
    two[1].partition = 5;
    kp_event swapped[2] = { two[1], two[0] };
    assert_true(digest_of(two, 2) != digest_of(swapped, 2));
    path = -1;
}

static void every_field_counts(void **state) {
    (void)state;
    sc_digest probe;
    sc_digest_init(&probe);
    for (int p = SC_DIGEST_PATH_PORTABLE; p <= probe.path; p++)
        every_field_counts_on(p);
}

/* The portable AES round is FIPS-197's: Appendix B, the start of round 1
 * through the round key of round 1 gives the start of round 2. */
static void aes_round_is_fips197s(void **state) {
    (void)state;
    uint8_t s[16] = { 0x19, 0x3d, 0xe3, 0xbe, 0xa0, 0xf4, 0xe2, 0x2b, 0x9a, 0xc6, 0x8d, 0x2a, 0xe9, 0xf8, 0x48, 0x08 };
    const uint8_t k[16] = { 0xa0, 0xfa, 0xfe, 0x17, 0x88, 0x54, 0x2c, 0xb1,
                            0x23, 0xa3, 0x39, 0x39, 0x2a, 0x6c, 0x76, 0x05 };
    const uint8_t want[16] = { 0xa4, 0x9c, 0x7f, 0xf2, 0x68, 0x9f, 0x35, 0x2b,
                               0x6b, 0x5b, 0xea, 0x43, 0x02, 0x6a, 0x50, 0x49 };
    sc_digest_aes_round(s, k);
    assert_memory_equal(s, want, 16);
}

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The portable round and the aesenc instruction agree on random input
 * (the hardware path is only taken where the CPU has it). */
static void aes_round_matches_the_instruction(void **state) {
    (void)state;
#if SC_DIGEST_AESNI
    sc_digest probe;
    sc_digest_init(&probe);
    if (probe.path == SC_DIGEST_PATH_PORTABLE)
        skip();
    uint64_t x = 42;
    for (int i = 0; i < 1000; i++) {
        uint64_t w[4] = { splitmix(&x), splitmix(&x), splitmix(&x), splitmix(&x) };
        uint8_t s[16], k[16], got[16];
        memcpy(s, w, 16);
        memcpy(k, w + 2, 16);
        __m128i hs = sc_digest__aesenc(_mm_loadu_si128((const __m128i *)s), _mm_loadu_si128((const __m128i *)k));
        _mm_storeu_si128((__m128i *)got, hs);
        sc_digest_aes_round(s, k);
        assert_memory_equal(s, got, 16);
    }
#else
    skip();
#endif
}

/* Every path the CPU runs (the portable one, aesenc, vaesenc) gives the
 * same value after every event, whatever the fields hold (negative, wide,
 * NULL or heap strings). */
static void every_path_gives_the_same_digest(void **state) {
    (void)state;
    sc_digest best;
    sc_digest_init(&best);
    sc_digest d[3], direct[3];
    int n = best.path + 1;
    for (int p = 0; p < n; p++) {
        assert_true(sc_digest_init_path(&d[p], p));
        assert_true(sc_digest_init_path(&direct[p], p));
        assert_int_equal(d[p].path, p);
        assert_true(sc_digest_value(&d[p]) == sc_digest_value(&d[0]));
    }
    static const char *const topics[] = { NULL, "orders", "t-0", "" };
    static const char *const details[] = { NULL, "doSend", "linger expired", "app>broker-1" };
    char *heap = dup("a heap detail");
    uint64_t x = 7;
    for (int i = 0; i < 2000; i++) {
        kp_event e;
        kp_event_init(&e, 100 + (int)(splitmix(&x) % 400), (kp_time_us)splitmix(&x));
        e.node = (int32_t)splitmix(&x);
        e.topic = topics[splitmix(&x) % 4];
        e.partition = (int32_t)splitmix(&x);
        e.producer_epoch = (int32_t)(splitmix(&x) % 3) - 1;
        e.batch_id = (int64_t)splitmix(&x);
        e.base_sequence = (int32_t)splitmix(&x);
        e.record_count = (int32_t)splitmix(&x);
        e.bytes = (int64_t)splitmix(&x);
        e.correlation_id = (int32_t)splitmix(&x);
        e.api_key = (int32_t)splitmix(&x);
        e.err = (kp_err)(int32_t)splitmix(&x);
        e.attempt = (int32_t)splitmix(&x);
        e.offset = (int64_t)splitmix(&x);
        e.producer_id = (int64_t)splitmix(&x);
        e.value = (int64_t)splitmix(&x);
        e.detail = i % 5 == 4 ? heap : details[splitmix(&x) % 4];
        kp_time_us now = (kp_time_us)splitmix(&x);
        for (int p = 0; p < n; p++) {
            bool taken = sc_digest_event_try(&d[p], &e, now);
            if (p == SC_DIGEST_PATH_PORTABLE)
                assert_false(taken); /* the portable path always declines */
            if (!taken)
                sc_digest_event_slow(&d[p], &e, now);
            assert_true(sc_digest_value(&d[p]) == sc_digest_value(&d[0]));
        }
#if SC_DIGEST_AESNI
        /* and the runner's way in, the path given as a constant */
        for (int p = SC_DIGEST_PATH_AES; p < n; p++) {
            bool taken = p == SC_DIGEST_PATH_AES_VEX ? sc_digest_event_try_hw(&direct[p], &e, now, true)
                                                     : sc_digest_event_try_hw(&direct[p], &e, now, false);
            if (!taken)
                sc_digest_event_slow(&direct[p], &e, now);
            assert_true(sc_digest_value(&direct[p]) == sc_digest_value(&d[0]));
        }
#endif
    }
    free(heap);
}

/* NULL, "" and every length class (1..3, 4..7, 8, 9..16, long) differ, and
 * a change in any byte of a string changes its hash. */
static void strings_by_every_byte(void **state) {
    (void)state;
    kp_event a = base_event(), b = base_event();
    a.detail = NULL;
    b.detail = "";
    assert_true(digest_of(&a, 1) != digest_of(&b, 1));
    char buf[40];
    uint64_t by_len[40];
    for (size_t len = 0; len < sizeof buf; len++) {
        memset(buf, 'x', len);
        buf[len] = 0;
        by_len[len] = sc_digest_string_hash(buf);
        for (size_t k = 0; k < len; k++)
            assert_true(by_len[k] != by_len[len]); /* "xx" is not "xxx" */
        for (size_t i = 0; i < len; i++) {
            buf[i] = 'y';
            assert_true(sc_digest_string_hash(buf) != by_len[len]);
            buf[i] = 'x';
        }
    }
}

/* A string literal and a heap copy of it give the same digest: what counts
 * is the content. The literal is hashed once; the heap copy every time. */
static void literal_and_copy_are_the_same(void **state) {
    (void)state;
    static const char *const lit = "Sender.sendProduceRequest";
    char *heap = dup(lit);
    char stack[32];
    memcpy(stack, lit, strlen(lit) + 1);

    sc_digest d;
    sc_digest_init(&d);
    assert_true(sc_digest_immutable(&d, lit));
    assert_false(sc_digest_immutable(&d, heap));
    assert_false(sc_digest_immutable(&d, stack));

    kp_event e = base_event();
    e.topic = NULL; /* only the detail is a string here */
    e.detail = lit;
    sc_digest d1, d2, d3;
    sc_digest_init(&d1);
    sc_digest_init(&d2);
    sc_digest_init(&d3);
    for (int i = 0; i < 5; i++)
        sc_digest_event(&d1, &e, 1);
    assert_int_equal(d1.stored, 1); /* hashed once, then served from the cache */
    e.detail = heap;
    for (int i = 0; i < 5; i++)
        sc_digest_event(&d2, &e, 1);
    assert_int_equal(d2.stored, 0);
    e.detail = stack;
    for (int i = 0; i < 5; i++)
        sc_digest_event(&d3, &e, 1);
    assert_int_equal(d3.stored, 0);
    assert_true(sc_digest_value(&d1) == sc_digest_value(&d2));
    assert_true(sc_digest_value(&d1) == sc_digest_value(&d3));
    free(heap);
}

/* A buffer rewritten in place (same address, new content), as an emitter
 * formatting its detail into a buffer does, changes the digest exactly as
 * two distinct strings would: no hash is ever reused by address for memory
 * that can change. Same for the topic lane and its last-topic memory. */
static void rewritten_buffer_changes_the_digest(void **state) {
    (void)state;
    char *buf = malloc(32);
    assert_non_null(buf);
    for (int lane = 0; lane < 2; lane++) {
        const char *texts[4] = { "app>broker-0", "app>broker-1", "app>broker-1", "broker-0>app" };
        sc_digest by_buffer, by_literal;
        sc_digest_init(&by_buffer);
        sc_digest_init(&by_literal);
        for (int i = 0; i < 4; i++) {
            strcpy(buf, texts[i]);
            kp_event e = base_event(), f = base_event();
            if (lane) {
                e.topic = buf;
                f.topic = texts[i];
            } else {
                e.detail = buf;
                f.detail = texts[i];
            }
            sc_digest_event(&by_buffer, &e, 1);
            sc_digest_event(&by_literal, &f, 1);
            assert_true(sc_digest_value(&by_buffer) == sc_digest_value(&by_literal));
        }
        /* and the sequence with distinct texts differs from one repeated */
        sc_digest same;
        sc_digest_init(&same);
        for (int i = 0; i < 4; i++) {
            kp_event e = base_event();
            if (lane)
                e.topic = "app>broker-0";
            else
                e.detail = "app>broker-0";
            sc_digest_event(&same, &e, 1);
        }
        assert_true(sc_digest_value(&same) != sc_digest_value(&by_buffer));
    }
    free(buf);
}

/* Many literals at once (more than a set of the cache holds) still give
 * the digest of their contents. */
static void cache_collisions_do_not_matter(void **state) {
    (void)state;
    static const char *const lits[] = {
        "a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg", "hhhhhhhh", "iiiiiiiii", "jjjjjjjjjj",
        "Sender.sendProduceRequest", "NetworkClient.doSend", "round-robin", "sticky", "keyed", "explicit",
        "waitOnMetadata", "BufferPool.allocate", "linger expired", "no room for the next record",
    };
    size_t n = sizeof lits / sizeof lits[0];
    sc_digest a, b;
    sc_digest_init(&a);
    sc_digest_init(&b);
    for (int round = 0; round < 50; round++)
        for (size_t i = 0; i < n; i++) {
            size_t k = (i * 7 + (size_t)round) % n;
            char *copy = dup(lits[k]);
            kp_event e = base_event(), f = base_event();
            e.detail = lits[k];
            e.topic = lits[(k + 3) % n];
            f.detail = copy;
            f.topic = lits[(k + 3) % n];
            sc_digest_event(&a, &e, round);
            sc_digest_event(&b, &f, round);
            free(copy);
            assert_true(sc_digest_value(&a) == sc_digest_value(&b));
        }
}

/* A pinned heap string is hashed once (when pinned) and then found by
 * address, on both lanes, and gives the digest of its content; after
 * sc_digest_unpin_all the buffer may be rewritten and counts by content
 * again; a full pin table refuses (the string is then hashed every time,
 * with the same result). */
static void pinned_strings_are_cached_by_address(void **state) {
    (void)state;
    char *topic = dup("orders"), *detail = dup("RecordAccumulator.append");
    sc_digest pinned, plain;
    sc_digest_init(&pinned);
    sc_digest_init(&plain);
    assert_true(sc_digest_pin(&pinned, topic));
    assert_true(sc_digest_pin(&pinned, detail));
    assert_true(sc_digest_pin(&pinned, topic)); /* again: still one pin */
    assert_int_equal(pinned.npins, 2);
    uint64_t stored = pinned.stored;
    for (int i = 0; i < 6; i++) {
        kp_event e = base_event(), f = base_event();
        e.topic = topic;
        e.detail = detail;
        f.topic = "orders";
        f.detail = "RecordAccumulator.append";
        sc_digest_event(&pinned, &e, i);
        sc_digest_event(&plain, &f, i);
        assert_true(sc_digest_value(&pinned) == sc_digest_value(&plain));
    }
    assert_int_equal(pinned.stored, stored); /* no hashing after the pin */
    assert_int_equal(stored, 2);               /* the two were hashed when pinned */

    /* found by address: were the pinned bytes rewritten (which a pin
     * promises never happens), the digest would still see the old ones */
    strcpy(topic, "orderx");
    {
        kp_event e = base_event(), f = base_event();
        e.topic = topic;
        e.detail = detail;
        f.topic = "orders";
        f.detail = "RecordAccumulator.append";
        sc_digest_event(&pinned, &e, 7);
        sc_digest_event(&plain, &f, 7);
        assert_true(sc_digest_value(&pinned) == sc_digest_value(&plain));
    }

    /* unpinned: the rewritten buffer counts by its new content */
    sc_digest_unpin_all(&pinned);
    assert_int_equal(pinned.npins, 0);
    strcpy(topic, "orderz");
    kp_event e = base_event(), f = base_event();
    e.topic = topic;
    f.topic = "orderz";
    sc_digest_event(&pinned, &e, 9);
    sc_digest_event(&plain, &f, 9);
    assert_true(sc_digest_value(&pinned) == sc_digest_value(&plain));

    /* a full table refuses, and the refused string still counts by content */
    sc_digest full;
    sc_digest_init(&full);
    char *many[SC_DIGEST_PINS + 1];
    for (int i = 0; i <= SC_DIGEST_PINS; i++) {
        many[i] = dup("orders");
        assert_int_equal(sc_digest_pin(&full, many[i]), i < SC_DIGEST_PINS);
    }
    sc_digest again;
    sc_digest_init(&again);
    kp_event g = base_event(), h = base_event();
    g.topic = many[SC_DIGEST_PINS];
    h.topic = "orders";
    sc_digest_event(&full, &g, 1);
    sc_digest_event(&again, &h, 1);
    assert_true(sc_digest_value(&full) == sc_digest_value(&again));
    for (int i = 0; i <= SC_DIGEST_PINS; i++)
        free(many[i]);
    free(topic);
    free(detail);
}

/* sc_digest_event_try folds an event in only when both of its strings are
 * NULL or cached, and then exactly as sc_digest_event would; otherwise it
 * leaves the digest untouched and sc_digest_event_slow gives the same
 * value sc_digest_event would. */
static void try_path_matches_the_full_one(void **state) {
    (void)state;
    char *heap = dup("orders");
    sc_digest t, full;
    sc_digest_init(&t);
    sc_digest_init(&full);
    kp_event lit = base_event(); /* "orders" / "doSend": literals */
    kp_event none = base_event();
    none.topic = NULL;
    none.detail = NULL;
    kp_event buf = base_event();
    buf.topic = heap; /* neither pinned nor read-only: never cached */

    if (t.path == SC_DIGEST_PATH_PORTABLE)
        skip(); /* the portable path declines every event */
    /* NULL strings are known without a call */
    assert_true(sc_digest_event_try(&t, &none, 5));
    sc_digest_event(&full, &none, 5);
    assert_true(sc_digest_value(&t) == sc_digest_value(&full));

    /* literals not yet cached: declined, nothing changes */
    uint64_t before = sc_digest_value(&t);
    assert_false(sc_digest_event_try(&t, &lit, 6));
    assert_true(sc_digest_value(&t) == before);
    sc_digest_event_slow(&t, &lit, 6); /* caches both literals */
    sc_digest_event(&full, &lit, 6);
    assert_true(sc_digest_value(&t) == sc_digest_value(&full));

    /* now cached: taken, same value */
    assert_true(sc_digest_event_try(&t, &lit, 7));
    sc_digest_event(&full, &lit, 7);
    assert_true(sc_digest_value(&t) == sc_digest_value(&full));

    /* a heap topic is always declined (its bytes may change), and the slow
     * path counts it by content */
    for (int i = 0; i < 3; i++) {
        before = sc_digest_value(&t);
        assert_false(sc_digest_event_try(&t, &buf, 8 + i));
        assert_true(sc_digest_value(&t) == before);
        sc_digest_event_slow(&t, &buf, 8 + i);
        sc_digest_event(&full, &lit, 8 + i); /* same content as the heap copy */
        assert_true(sc_digest_value(&t) == sc_digest_value(&full));
    }
    free(heap);
}

/* NULL is known without hashing whatever the cache holds: strings whose
 * addresses fall in NULL's set (set 0) never take its slot. */
/* Addresses in `block` (n bytes, room for 16 bytes at each) whose cache
 * set is `set`, at most `max` of them, 16 bytes apart at least. */
static int addresses_in_set(char *block, size_t n, size_t set, char **out, int max) {
    int k = 0;
    for (size_t off = 0; off + 16 <= n && k < max; off++)
        if (sc_digest__set(block + off) == set && (k == 0 || block + off >= out[k - 1] + 16))
            out[k++] = block + off;
    return k;
}

static void null_keeps_its_slot(void **state) {
    (void)state;
    sc_digest d;
    sc_digest_init(&d);
    size_t n = 1 << 16;
    char *block = malloc(n);
    assert_non_null(block);
    char *at[4];
    assert_int_equal(addresses_in_set(block, n, 0, at, 4), 4);
    for (int i = 0; i < 4; i++) { /* four strings in set 0, pinned */
        char *s = at[i];
        strcpy(s, i % 2 ? "app>broker-1" : "orders");
        assert_true(sc_digest_pin(&d, s));
        uint64_t h = 0;
        assert_true(sc_digest__known(&d, NULL, &h));
        assert_true(h == 1);
        /* the first pin holds the set's other way; later ones stay out
         * (a pin is never evicted) */
        assert_true(sc_digest__known(&d, at[0], &h));
        assert_true(h == sc_digest_string_hash(at[0]));
        assert_int_equal(sc_digest__known(&d, s, &h), i == 0);
    }
    sc_digest_unpin_all(&d);
    uint64_t h = 0;
    assert_true(sc_digest__known(&d, NULL, &h));
    assert_true(h == 1);
    free(block);
}

/* A pinned string keeps its cache entry whatever literals come through
 * its set: a pinned topic that lost it would go down the slow path on
 * every later event (its last-topic strcmp answers before any re-cache). */
static const char ro_block[1 << 16] = { 'a' }; /* read-only: "a", then "" at every other offset */

static void pins_are_never_evicted(void **state) {
    (void)state;
    sc_digest d;
    sc_digest_init(&d);
    /* three read-only strings in one set (not set 0: NULL's first way) */
    const char *lits[3];
    size_t set = 0;
    for (size_t off = 1; off < 64 && set == 0; off++)
        set = sc_digest__set(ro_block + off);
    int k = 0;
    for (size_t off = 1; off < sizeof ro_block && k < 3; off++)
        if (sc_digest__set(ro_block + off) == set)
            lits[k++] = ro_block + off;
    assert_int_equal(k, 3);
    assert_true(sc_digest_immutable(&d, lits[2]));
    size_t n = 1 << 16;
    char *block = malloc(n);
    assert_non_null(block);
    char *topic;
    assert_int_equal(addresses_in_set(block, n, set, &topic, 1), 1);
    strcpy(topic, "orders");
    assert_true(sc_digest_pin(&d, topic));
    sc_digest plain;
    sc_digest_init(&plain);
    for (int i = 0; i < 12; i++) { /* the three literals of its set, in turn */
        kp_event e = base_event(), f = base_event();
        e.topic = topic;
        e.detail = lits[i % 3];
        f.topic = "orders";
        f.detail = e.detail;
        if (!sc_digest_event_try(&d, &e, i))
            sc_digest_event_slow(&d, &e, i);
        sc_digest_event(&plain, &f, i);
        assert_true(sc_digest_value(&d) == sc_digest_value(&plain));
        uint64_t h;
        assert_true(sc_digest__known(&d, topic, &h));
        assert_true(h == sc_digest_string_hash("orders"));
    }
    free(block);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_field_counts),
        cmocka_unit_test(aes_round_is_fips197s),
        cmocka_unit_test(aes_round_matches_the_instruction),
        cmocka_unit_test(every_path_gives_the_same_digest),
        cmocka_unit_test(strings_by_every_byte),
        cmocka_unit_test(literal_and_copy_are_the_same),
        cmocka_unit_test(rewritten_buffer_changes_the_digest),
        cmocka_unit_test(cache_collisions_do_not_matter),
        cmocka_unit_test(pinned_strings_are_cached_by_address),
        cmocka_unit_test(try_path_matches_the_full_one),
        cmocka_unit_test(null_keeps_its_slot),
        cmocka_unit_test(pins_are_never_evicted),
    };
    return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
