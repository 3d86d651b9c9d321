/*
 * test_slab.c — kp_slab: blocks carved in order without overlap, a block
 * let go of is the next one taken (LIFO), a full slab answers NULL,
 * holds() knows its own blocks only; a sanitizer build has no slab.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "kp_slab.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif

static void slab_carves_in_order_and_reuses_last_let_go_first(void **state) {
    (void)state;
    kp_slab s;
    bool ok = kp_slab_init(&s, 1000, 4);
#ifdef SLAB_ASAN
    assert_false(ok);
    assert_null(kp_slab_take(&s));
    kp_slab_destroy(&s);
    return;
#endif
    assert_true(ok);
    assert_int_equal((uintptr_t)s.base % ((size_t)2 << 20), 0); /* huge-page aligned */
    uint8_t *b[4];
    for (int i = 0; i < 4; i++) {
        b[i] = kp_slab_take(&s);
        assert_ptr_equal(b[i], s.base + 1000 * i);
        memset(b[i], 0x20 + i, 1000);
        assert_true(kp_slab_holds(&s, b[i]));
    }
    assert_null(kp_slab_take(&s)); /* full */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 1000; j += 111)
            assert_int_equal(b[i][j], 0x20 + i); /* no overlap */
    kp_slab_put(&s, b[1]);
    kp_slab_put(&s, b[3]);
    assert_ptr_equal(kp_slab_take(&s), b[3]);
    assert_ptr_equal(kp_slab_pop_spare(&s), b[1]);
    assert_null(kp_slab_pop_spare(&s));
    assert_null(kp_slab_take(&s));
    assert_int_equal(s.used, 4);
    uint8_t outside[16];
    assert_false(kp_slab_holds(&s, outside));
    assert_false(kp_slab_holds(&s, s.base + 4000)); /* one past the last block */
    kp_slab_destroy(&s);
    assert_null(s.base);
}

static void slab_refuses_what_it_cannot_hold(void **state) {
    (void)state;
    kp_slab s;
    assert_false(kp_slab_init(&s, 4, 10)); /* a block must hold the spare link */
    assert_false(kp_slab_init(&s, 64, 0));
    assert_false(kp_slab_init(&s, SIZE_MAX / 2, 4)); /* the size overflows */
    assert_null(kp_slab_take(&s));
    assert_false(kp_slab_holds(&s, &s));
    kp_slab_destroy(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slab_carves_in_order_and_reuses_last_let_go_first),
        cmocka_unit_test(slab_refuses_what_it_cannot_hold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
