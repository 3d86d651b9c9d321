/*
 * test_config.c — ProducerConfig 2.1.1 defaults, set-by-name and the
 * KafkaProducer constructor's cross-checks (KafkaProducerTest /
 * ProducerConfigTest behaviours, KAFKA_FACTS.md "Producer config defaults").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp_config.h"

static char err[2048];

/* Two configs are equal when every setting dumps the same and the same
 * settings are explicit (no memcmp: struct padding is unspecified). */
static void assert_same_config(const kp_config *a, const kp_config *b) {
    char da[4096], db[4096];
    kp_config_dump_buf(a, da, sizeof da);
    kp_config_dump_buf(b, db, sizeof db);
    assert_string_equal(da, db);
    assert_true(a->explicit_mask == b->explicit_mask);
    assert_int_equal(a->validated, b->validated);
}

static kp_config fresh(void) {
    kp_config c;
    kp_config_init(&c);
    return c;
}

static void config_defaults_are_2_1_1(void **state) {
    (void)state;
    kp_config c = fresh();
    assert_int_equal(c.batch_size, 16384);
    assert_int_equal(c.linger_ms, 0);
    assert_int_equal(c.buffer_memory, 33554432);
    assert_int_equal(c.max_block_ms, 60000);
    assert_int_equal(c.request_timeout_ms, 30000);
    assert_int_equal(c.delivery_timeout_ms, 120000);
    assert_int_equal(c.retries, INT32_MAX);
    assert_int_equal(c.retry_backoff_ms, 100);
    assert_int_equal(c.max_in_flight, 5);
    assert_int_equal(c.metadata_max_age_ms, 300000);
    assert_int_equal(c.reconnect_backoff_ms, 50);
    assert_int_equal(c.reconnect_backoff_max_ms, 1000);
    assert_int_equal(c.max_request_size, 1048576);
    assert_int_equal(c.acks, 1);
    assert_false(c.enable_idempotence);
    assert_int_equal(c.compression_type, KP_COMPRESSION_NONE);
    assert_int_equal(c.transaction_timeout_ms, 60000);
    assert_int_equal(c.connections_max_idle_ms, 540000);
    assert_int_equal(c.send_buffer_bytes, 131072);
    assert_int_equal(c.receive_buffer_bytes, 32768);
    assert_int_equal(c.partitioner, KP_PARTITIONER_DEFAULT);
    assert_false(c.bug_kafka_13834);
    assert_false(c.has_transactional_id);
    assert_int_equal(c.explicit_mask, 0);
    /* validating the defaults changes nothing */
    kp_config v = c;
    assert_int_equal(kp_config_validate(&v, err, sizeof err), KP_ERR_NONE);
    assert_int_equal(v.delivery_timeout_ms, 120000);
    assert_int_equal(v.acks, 1);
    assert_false(v.enable_idempotence);
}

static void config_set_by_name_marks_explicit(void **state) {
    (void)state;
    kp_config c = fresh();
    assert_false(kp_config_is_explicit(&c, "linger.ms"));
    assert_int_equal(kp_config_set(&c, "linger.ms", "5", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.linger_ms, 5);
    assert_true(kp_config_is_explicit(&c, "linger.ms"));
    assert_int_equal(kp_config_set_kv(&c, "buffer.memory=1000000", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.buffer_memory, 1000000);
    assert_int_equal(kp_config_set(&c, "client.id", "producer-7", err, sizeof err), KP_ERR_NONE);
    assert_string_equal(c.client_id, "producer-7");
    assert_int_equal(kp_config_set(&c, "bug.KAFKA-13834", "true", err, sizeof err), KP_ERR_NONE);
    assert_true(c.bug_kafka_13834);
    assert_int_equal(kp_config_set(&c, "bug.KAFKA-8350", "TRUE", err, sizeof err), KP_ERR_NONE);
    assert_true(c.bug_kafka_8350);
}

static void config_unknown_name_is_named_in_the_error(void **state) {
    (void)state;
    kp_config c = fresh();
    kp_config before = c;
    assert_int_equal(kp_config_set(&c, "linger.msx", "5", err, sizeof err), KP_ERR__CONFIG);
    assert_non_null(strstr(err, "linger.msx"));
    assert_non_null(strstr(err, "linger.ms")); /* the known names are listed */
    assert_same_config(&c, &before);
    assert_int_equal(kp_config_set_kv(&c, "no-equals-sign", err, sizeof err), KP_ERR__CONFIG);
}

static void config_bad_numbers_name_setting_and_range(void **state) {
    (void)state;
    kp_config c = fresh();
    assert_int_equal(kp_config_set(&c, "batch.size", "abc", err, sizeof err), KP_ERR__CONFIG);
    assert_non_null(strstr(err, "batch.size"));
    assert_non_null(strstr(err, "[0, 2147483647]"));
    assert_int_equal(kp_config_set(&c, "batch.size", "-1", err, sizeof err), KP_ERR__CONFIG);
    assert_int_equal(kp_config_set(&c, "max.in.flight.requests.per.connection", "0", err, sizeof err),
                     KP_ERR__CONFIG);
    assert_non_null(strstr(err, "[1, "));
    assert_int_equal(kp_config_set(&c, "linger.ms", "3000000000", err, sizeof err), KP_ERR__CONFIG);
    assert_int_equal(kp_config_set(&c, "linger.ms", "12ms", err, sizeof err), KP_ERR__CONFIG);
    assert_int_equal(kp_config_set(&c, "enable.idempotence", "yes", err, sizeof err), KP_ERR__CONFIG);
    assert_non_null(strstr(err, "true or false"));
    assert_int_equal(c.batch_size, 16384); /* unchanged */
    assert_int_equal(c.explicit_mask, 0);
}

static void config_enums_accept_java_names_only(void **state) {
    (void)state;
    kp_config c = fresh();
    assert_int_equal(kp_config_set(&c, "acks", "all", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.acks, -1);
    assert_int_equal(kp_config_set(&c, "acks", "0", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.acks, 0);
    assert_int_equal(kp_config_set(&c, "acks", "-1", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.acks, -1);
    assert_int_equal(kp_config_set(&c, "acks", "2", err, sizeof err), KP_ERR__CONFIG);
    assert_non_null(strstr(err, "all, -1, 0, 1"));
    assert_int_equal(kp_config_set(&c, "compression.type", "zstd", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.compression_type, KP_COMPRESSION_ZSTD);
    assert_int_equal(kp_config_set(&c, "compression.type", "brotli", err, sizeof err), KP_ERR__CONFIG);
    assert_non_null(strstr(err, "none, gzip, snappy, lz4, zstd"));
    assert_int_equal(kp_config_set(&c, "partitioner.class", "sticky", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.partitioner, KP_PARTITIONER_STICKY);
    assert_int_equal(kp_config_set(&c, "partitioner.class", "uniform", err, sizeof err), KP_ERR__CONFIG);
    assert_int_equal(kp_config_set(&c, "value.serializer", "long", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.value_serializer, KP_SERIALIZER_LONG);
    assert_int_equal(kp_config_set(&c, "key.serializer", "avro", err, sizeof err), KP_ERR__CONFIG);
    assert_non_null(strstr(err, "bytes, string, int, long"));
}

static void config_interceptor_list_parses_in_order(void **state) {
    (void)state;
    kp_config c = fresh();
    assert_int_equal(kp_config_set(&c, "interceptor.classes", "counting, throwing,modifying", err,
                                   sizeof err),
                     KP_ERR_NONE);
    assert_int_equal(c.interceptor_count, 3);
    assert_int_equal(c.interceptors[0], KP_INTERCEPTOR_COUNTING);
    assert_int_equal(c.interceptors[1], KP_INTERCEPTOR_THROWING);
    assert_int_equal(c.interceptors[2], KP_INTERCEPTOR_MODIFYING);
    assert_int_equal(kp_config_set(&c, "interceptor.classes", "counting,bogus", err, sizeof err),
                     KP_ERR__CONFIG);
    assert_non_null(strstr(err, "counting, modifying, throwing"));
    assert_int_equal(c.interceptor_count, 3); /* unchanged */
    assert_int_equal(kp_config_set(&c, "interceptor.classes", "", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.interceptor_count, 0);
}

static void config_delivery_timeout_explicit_too_small_fails(void **state) {
    (void)state;
    kp_config c = fresh();
    kp_config_set(&c, "linger.ms", "100", err, sizeof err);
    kp_config_set(&c, "request.timeout.ms", "1000", err, sizeof err);
    kp_config_set(&c, "delivery.timeout.ms", "1099", err, sizeof err);
    kp_config before = c;
    assert_int_equal(kp_config_validate(&c, err, sizeof err), KP_ERR__CONFIG);
    assert_string_equal(err, "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms");
    assert_same_config(&c, &before); /* unchanged on error */
    kp_config_set(&c, "delivery.timeout.ms", "1100", err, sizeof err);
    assert_int_equal(kp_config_validate(&c, err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.delivery_timeout_ms, 1100);
    assert_true(c.validated);
}

static void config_delivery_timeout_default_is_raised_silently(void **state) {
    (void)state;
    kp_config c = fresh();
    kp_config_set(&c, "linger.ms", "100000", err, sizeof err);
    kp_config_set(&c, "request.timeout.ms", "30000", err, sizeof err);
    assert_int_equal(kp_config_validate(&c, err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.delivery_timeout_ms, 130000);
}

static void config_transactional_id_implies_idempotence(void **state) {
    (void)state;
    kp_config c = fresh();
    assert_int_equal(kp_config_set(&c, "transactional.id", "txn-1", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(kp_config_validate(&c, err, sizeof err), KP_ERR_NONE);
    assert_true(c.enable_idempotence);
    assert_int_equal(c.acks, -1);
    assert_int_equal(c.retries, INT32_MAX);
    assert_string_equal(c.transactional_id, "txn-1");

    kp_config d = fresh();
    kp_config_set(&d, "transactional.id", "txn-1", err, sizeof err);
    kp_config_set(&d, "enable.idempotence", "false", err, sizeof err);
    assert_int_equal(kp_config_validate(&d, err, sizeof err), KP_ERR__CONFIG);
    assert_string_equal(err, "Cannot set a transactional.id without also enabling idempotence.");
    assert_int_equal(kp_config_set(&d, "transactional.id", "", err, sizeof err), KP_ERR__CONFIG);
}

static void config_idempotence_rules(void **state) {
    (void)state;
    kp_config c = fresh();
    kp_config_set(&c, "enable.idempotence", "true", err, sizeof err);
    kp_config_set(&c, "retries", "0", err, sizeof err);
    assert_int_equal(kp_config_validate(&c, err, sizeof err), KP_ERR__CONFIG);
    assert_non_null(strstr(err, "retries to non-zero"));

    c = fresh();
    kp_config_set(&c, "enable.idempotence", "true", err, sizeof err);
    kp_config_set(&c, "max.in.flight.requests.per.connection", "6", err, sizeof err);
    assert_int_equal(kp_config_validate(&c, err, sizeof err), KP_ERR__CONFIG);
    assert_non_null(strstr(err, "at most 5"));

    c = fresh();
    kp_config_set(&c, "enable.idempotence", "true", err, sizeof err);
    kp_config_set(&c, "acks", "1", err, sizeof err);
    assert_int_equal(kp_config_validate(&c, err, sizeof err), KP_ERR__CONFIG);
    assert_non_null(strstr(err, "acks to all"));

    c = fresh();
    kp_config_set(&c, "enable.idempotence", "true", err, sizeof err);
    kp_config_set(&c, "retries", "3", err, sizeof err);
    kp_config_set(&c, "max.in.flight.requests.per.connection", "5", err, sizeof err);
    assert_int_equal(kp_config_validate(&c, err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.retries, 3);  /* explicit non-zero retries kept */
    assert_int_equal(c.acks, -1);    /* unset acks becomes all */
    /* validate is idempotent */
    kp_config again = c;
    assert_int_equal(kp_config_validate(&again, err, sizeof err), KP_ERR_NONE);
    assert_same_config(&again, &c);
}

static void config_reconnect_backoff_max_follows_base(void **state) {
    (void)state;
    kp_config c = fresh();
    kp_config_set(&c, "reconnect.backoff.ms", "2000", err, sizeof err);
    assert_int_equal(kp_config_validate(&c, err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.reconnect_backoff_max_ms, 2000);
    kp_config d = fresh();
    kp_config_set(&d, "reconnect.backoff.ms", "20", err, sizeof err);
    kp_config_set(&d, "reconnect.backoff.max.ms", "400", err, sizeof err);
    assert_int_equal(kp_config_validate(&d, err, sizeof err), KP_ERR_NONE);
    assert_int_equal(d.reconnect_backoff_max_ms, 400);
}

static void config_dump_lists_every_setting(void **state) {
    (void)state;
    kp_config c = fresh();
    kp_config_set(&c, "acks", "all", err, sizeof err);
    kp_config_set(&c, "interceptor.classes", "counting,modifying", err, sizeof err);
    size_t need = kp_config_dump_buf(&c, NULL, 0);
    char *buf = malloc(need + 1);
    assert_int_equal(kp_config_dump_buf(&c, buf, need + 1), need);
    assert_int_equal(strlen(buf), need);
    for (size_t i = 0; i < kp_config_setting_count(); i++) {
        char line[128];
        snprintf(line, sizeof line, "%s=", kp_config_setting_name(i));
        assert_non_null(strstr(buf, line));
    }
    assert_non_null(strstr(buf, "acks=all\n"));
    assert_non_null(strstr(buf, "batch.size=16384\n"));
    assert_non_null(strstr(buf, "transactional.id=null\n"));
    assert_non_null(strstr(buf, "interceptor.classes=counting,modifying\n"));
    assert_non_null(strstr(buf, "bug.KAFKA-19479=false\n"));
    /* every setting the issue lists is settable by name */
    static const char *const must[] = {
        "bootstrap.servers", "acks", "retries", "retry.backoff.ms", "batch.size", "linger.ms",
        "buffer.memory", "max.block.ms", "max.request.size", "request.timeout.ms",
        "delivery.timeout.ms", "max.in.flight.requests.per.connection", "metadata.max.age.ms",
        "reconnect.backoff.ms", "reconnect.backoff.max.ms", "compression.type",
        "enable.idempotence", "transactional.id", "transaction.timeout.ms", "partitioner.class",
        "interceptor.classes", "client.id",
    };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "\n%s=", must[i]);
        assert_true(strstr(buf, line) != NULL || strncmp(buf, line + 1, strlen(line + 1)) == 0);
    }
    free(buf);
}

static void config_java_class_names_and_get(void **state) {
    (void)state;
    kp_config c = fresh();
    assert_int_equal(kp_config_set(&c, "value.serializer", "org.apache.kafka.common.serialization.LongSerializer",
                                   err, sizeof err),
                     KP_ERR_NONE);
    assert_int_equal(c.value_serializer, KP_SERIALIZER_LONG);
    assert_int_equal(kp_config_set(&c, "key.serializer", "ByteArraySerializer", err, sizeof err), KP_ERR_NONE);
    assert_int_equal(c.key_serializer, KP_SERIALIZER_BYTES);
    assert_int_equal(kp_config_set(&c, "partitioner.class",
                                   "org.apache.kafka.clients.producer.internals.DefaultPartitioner", err, sizeof err),
                     KP_ERR_NONE);
    assert_int_equal(c.partitioner, KP_PARTITIONER_DEFAULT);
    assert_int_equal(kp_config_set(&c, "key.serializer", "org.example.Serializer", err, sizeof err), KP_ERR__CONFIG);
    char v[64];
    assert_int_equal(kp_config_get(&c, "value.serializer", v, sizeof v), KP_ERR_NONE);
    assert_string_equal(v, "long");
    assert_int_equal(kp_config_get(&c, "transactional.id", v, sizeof v), KP_ERR_NONE);
    assert_string_equal(v, "null");
    kp_config_set(&c, "acks", "-1", err, sizeof err);
    kp_config_get(&c, "acks", v, sizeof v);
    assert_string_equal(v, "all");
    assert_int_equal(kp_config_get(&c, "linger", v, sizeof v), KP_ERR__CONFIG);
    assert_non_null(strstr(v, "linger"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_defaults_are_2_1_1),
        cmocka_unit_test(config_set_by_name_marks_explicit),
        cmocka_unit_test(config_unknown_name_is_named_in_the_error),
        cmocka_unit_test(config_bad_numbers_name_setting_and_range),
        cmocka_unit_test(config_enums_accept_java_names_only),
        cmocka_unit_test(config_interceptor_list_parses_in_order),
        cmocka_unit_test(config_delivery_timeout_explicit_too_small_fails),
        cmocka_unit_test(config_delivery_timeout_default_is_raised_silently),
        cmocka_unit_test(config_transactional_id_implies_idempotence),
        cmocka_unit_test(config_idempotence_rules),
        cmocka_unit_test(config_reconnect_backoff_max_follows_base),
        cmocka_unit_test(config_dump_lists_every_setting),
        cmocka_unit_test(config_java_class_names_and_get),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
