/*
 * test_err.c — the error table: names both ways, and the retriable /
 * invalid-metadata flags exactly as KAFKA_FACTS.md lists them for 2.1.1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "kp_err.h"

static void err_names_match_protocol_names(void **state) {
    (void)state;
    assert_string_equal(kp_err_name(KP_ERR_NONE), "NONE");
    assert_string_equal(kp_err_name(KP_ERR_UNKNOWN_SERVER_ERROR), "UNKNOWN_SERVER_ERROR");
    assert_string_equal(kp_err_name((kp_err)6), "NOT_LEADER_FOR_PARTITION");
    assert_string_equal(kp_err_name((kp_err)10), "MESSAGE_TOO_LARGE");
    assert_string_equal(kp_err_name((kp_err)45), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    assert_string_equal(kp_err_name((kp_err)59), "UNKNOWN_PRODUCER_ID");
    assert_string_equal(kp_err_name((kp_err)76), "UNSUPPORTED_COMPRESSION_TYPE");
    assert_string_equal(kp_err_name(KP_ERR__TIMED_OUT), "_TIMED_OUT");
    assert_string_equal(kp_err_name(KP_ERR__CRC), "_CRC");
}

static void err_unknown_codes_get_numbered_names(void **state) {
    (void)state;
    assert_string_equal(kp_err_name((kp_err)999), "ERR_999");
    assert_string_equal(kp_err_name((kp_err)-42), "ERR_-42");
    assert_false(kp_err_is_known((kp_err)999));
    assert_false(kp_err_is_known((kp_err)-2));
    assert_false(kp_err_is_retriable((kp_err)999));
    assert_string_equal(kp_err_desc((kp_err)999), "Unknown error code.");
}

static void err_every_known_code_round_trips_by_name(void **state) {
    (void)state;
    int known = 0;
    for (int c = -200; c <= 200; c++) {
        kp_err e = (kp_err)c, back;
        if (!kp_err_is_known(e))
            continue;
        known++;
        assert_true(kp_err_from_name(kp_err_name(e), &back));
        assert_int_equal(back, e);
        assert_non_null(kp_err_desc(e));
        assert_true(strlen(kp_err_desc(e)) > 0);
    }
    /* -1..76 from Kafka plus the local codes -100..-120 */
    assert_int_equal(known, 78 + 21);
}

static void err_from_name_prefix_and_case(void **state) {
    (void)state;
    kp_err e;
    assert_true(kp_err_from_name("not_leader_for_partition", &e));
    assert_int_equal(e, KP_ERR_NOT_LEADER_FOR_PARTITION);
    assert_true(kp_err_from_name("KP_ERR_MESSAGE_TOO_LARGE", &e));
    assert_int_equal(e, KP_ERR_MESSAGE_TOO_LARGE);
    assert_true(kp_err_from_name("KP_ERR__TIMED_OUT", &e));
    assert_int_equal(e, KP_ERR__TIMED_OUT);
    assert_true(kp_err_from_name("_crc", &e));
    assert_int_equal(e, KP_ERR__CRC);
    assert_false(kp_err_from_name("NO_SUCH_ERROR", &e));
    assert_false(kp_err_from_name("", &e));
    assert_false(kp_err_from_name(NULL, &e));
}

/* KAFKA_FACTS.md "Error codes": R = retriable, M = invalid metadata. */
static void err_retriable_flags_per_kafka_2_1(void **state) {
    (void)state;
    static const int retriable[] = { 2, 3, 5, 6, 7, 13, 14, 15, 16, 19, 20, 41, 56, 74, 75 };
    static const int not_retriable[] = { -1, 0, 1, 8, 9, 10, 17, 18, 21, 29, 31, 35, 43, 45,
                                         46, 47, 51, 53, 55, 59 };
    for (size_t i = 0; i < sizeof retriable / sizeof retriable[0]; i++)
        if (!kp_err_is_retriable((kp_err)retriable[i]))
            fail_msg("%d should be retriable", retriable[i]);
    for (size_t i = 0; i < sizeof not_retriable / sizeof not_retriable[0]; i++)
        if (kp_err_is_retriable((kp_err)not_retriable[i]))
            fail_msg("%d should not be retriable", not_retriable[i]);
    for (int c = -120; c <= -100; c++)
        assert_false(kp_err_is_retriable((kp_err)c));
}

static void err_invalid_metadata_flags_per_kafka_2_1(void **state) {
    (void)state;
    static const int im[] = { 3, 5, 6, 13, 56, 72, 74 };
    int count = 0;
    for (int c = -1; c <= KP_ERR_KAFKA_MAX; c++) {
        bool want = false;
        for (size_t i = 0; i < sizeof im / sizeof im[0]; i++)
            want |= im[i] == c;
        if (kp_err_is_invalid_metadata((kp_err)c) != want)
            fail_msg("code %d: invalid_metadata should be %d", c, want);
        /* InvalidMetadataException extends RetriableException */
        if (want)
            assert_true(kp_err_is_retriable((kp_err)c));
        count += want;
    }
    assert_int_equal(count, 7);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(err_names_match_protocol_names),
        cmocka_unit_test(err_unknown_codes_get_numbered_names),
        cmocka_unit_test(err_every_known_code_round_trips_by_name),
        cmocka_unit_test(err_from_name_prefix_and_case),
        cmocka_unit_test(err_retriable_flags_per_kafka_2_1),
        cmocka_unit_test(err_invalid_metadata_flags_per_kafka_2_1),
    };
    return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
