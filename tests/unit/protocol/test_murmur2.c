/*
 * test_murmur2.c — Kafka's murmur2 and the DefaultPartitioner's keyed choice,
 * against the values published in Kafka's UtilsTest and DefaultPartitionerTest
 * era tests (KAFKA_FACTS.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "kp_murmur2.h"

static int32_t mm(const char *s) { return kp_murmur2(s, strlen(s)); }

static void murmur2_matches_kafka_utils_test(void **state) {
    (void)state;
    assert_int_equal(mm("21"), -973932308);
    assert_int_equal(mm("foobar"), -790332482);
    assert_int_equal(mm("a-little-bit-long-string"), -985981536);
    assert_int_equal(mm("a-little-bit-longer-string"), -1486304829);
    assert_int_equal(mm("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
    assert_int_equal(mm("abc"), 479470107);
}

static void murmur2_tails_of_every_length(void **state) {
    (void)state;
    assert_int_equal(mm(""), 275646681);
    assert_int_equal(mm("a"), -1563381124);
    assert_int_equal(mm("key"), -1079937367);
    assert_int_equal(mm("key1"), 28543940);
    assert_int_equal(mm("test"), 716234879);
    assert_int_equal(mm("1"), -1993445489);
}

static void to_positive_masks_not_abs(void **state) {
    (void)state;
    assert_int_equal(kp_to_positive(mm("21")), 1173551340);
    assert_int_equal(kp_to_positive(mm("foobar")), 1357151166);
    assert_int_equal(kp_to_positive(INT32_MIN), 0); /* abs() would overflow */
    assert_int_equal(kp_to_positive(-1), INT32_MAX);
}

static void partition_table_for_several_counts(void **state) {
    (void)state;
    static const struct { const char *key; int p[6]; } rows[] = {
        { "",     { 1, 0, 1, 3, 1, 9 } },
        { "key",  { 1, 1, 1, 1, 1, 1 } },
        { "a",    { 0, 1, 0, 4, 4, 4 } },
        { "key1", { 0, 2, 0, 2, 4, 8 } },
        { "test", { 1, 2, 3, 5, 7, 11 } },
        { "1",    { 1, 0, 3, 3, 7, 3 } },
    };
    static const int counts[6] = { 2, 3, 4, 6, 8, 12 };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        for (int j = 0; j < 6; j++)
            assert_int_equal(kp_partition_for_key(rows[i].key, strlen(rows[i].key), counts[j]),
                             rows[i].p[j]);
}

static void partition_streams_comment_n3(void **state) {
    (void)state;
    static const int want[10] = { 2, 0, 2, 2, 1, 0, 1, 0, 0, 2 };
    for (int i = 0; i < 10; i++) {
        char k[2] = { (char)('0' + i), 0 };
        assert_int_equal(kp_partition_for_key(k, 1, 3), want[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(murmur2_matches_kafka_utils_test),
        cmocka_unit_test(murmur2_tails_of_every_length),
        cmocka_unit_test(to_positive_masks_not_abs),
        cmocka_unit_test(partition_table_for_several_counts),
        cmocka_unit_test(partition_streams_comment_n3),
    };
    return cmocka_run_group_tests_name("murmur2", tests, NULL, NULL);
}
