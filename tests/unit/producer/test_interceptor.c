/*
 * test_interceptor.c — ProducerInterceptors 2.1.1: onSend may replace the
 * record, each interceptor sees the previous one's output, a failing
 * interceptor is counted and ignored, onAcknowledgement / onSendError.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "acc_fixtures.h"
#include "kp_events.h"
#include "kp_interceptor.h"

static char err[256];

static kp_interceptors *chain_of(const char *classes, const kp_observer *obs) {
    kp_config c;
    kp_config_init(&c);
    assert_int_equal(kp_config_set(&c, "interceptor.classes", classes, err, sizeof err), KP_ERR_NONE);
    kp_interceptors *ic = kp_interceptors_new(&c, obs);
    assert_non_null(ic);
    return ic;
}

static kp_producer_record rec(const char *value) {
    return (kp_producer_record){ .topic = "t", .partition = -1, .timestamp = -1,
                                 .key = kp_datum_null(), .value = kp_datum_str(value) };
}

static void interceptor_modifying_replaces_the_value(void **state) {
    (void)state;
    kp_interceptors *ic = chain_of("modifying,modifying", NULL);
    kp_producer_record in = rec("v"), out;
    kp_interceptors_on_send(ic, &in, &out, 0);
    /* the second interceptor saw the first one's output */
    assert_int_equal(out.value.len, (int32_t)strlen("v-intercepted-intercepted"));
    assert_memory_equal(out.value.ptr, "v-intercepted-intercepted", (size_t)out.value.len);
    assert_string_equal(in.value.ptr, "v"); /* the caller's record is untouched */
    kp_producer_record in2 = rec(""), out2;
    kp_interceptors_on_send(ic, &in2, &out2, 0);
    assert_memory_equal(out2.value.ptr, "-intercepted-intercepted", (size_t)out2.value.len);
    /* non-text values pass unchanged */
    kp_producer_record in3 = rec("x");
    in3.value = kp_datum_long(7);
    kp_interceptors_on_send(ic, &in3, &out2, 0);
    assert_int_equal(out2.value.kind, KP_DATUM_LONG);
    assert_int_equal(out2.value.i, 7);
    kp_interceptors_destroy(ic);
}

static void interceptor_failures_are_counted_and_ignored(void **state) {
    (void)state;
    fx_events ev = { 0 };
    kp_observer obs = { fx_on_event, &ev };
    kp_interceptors *ic = chain_of("counting,throwing,modifying", &obs);
    assert_int_equal(kp_interceptors_count(ic), 3);
    kp_producer_record in = rec("v"), out;
    kp_interceptors_on_send(ic, &in, &out, 0);
    /* throwing's garbage is discarded; modifying saw the record before it */
    assert_memory_equal(out.value.ptr, "v-intercepted", 13);
    assert_int_equal(kp_interceptors_errors(ic), 1);
    kp_record_metadata md = { .topic = "t", .partition = 0, .offset = 5 };
    kp_interceptors_on_ack(ic, &md, KP_ERR_NONE, 1);
    assert_int_equal(kp_interceptors_errors(ic), 2); /* throwing's onAck too */
    assert_int_equal(ev.count[KP_EV_INTERCEPTOR_ERROR], 2);
    uint64_t sends, acks, errs;
    assert_true(kp_interceptors_counts(ic, &sends, &acks, &errs));
    assert_int_equal(sends, 1);
    assert_int_equal(acks, 1);
    assert_int_equal(errs, 0);
    kp_interceptors_destroy(ic);
}

static void interceptor_send_error_reaches_on_ack_with_offset_minus_one(void **state) {
    (void)state;
    kp_interceptors *ic = chain_of("counting", NULL);
    kp_producer_record in = rec("v");
    kp_interceptors_on_send_error(ic, &in, 3, KP_ERR__TIMED_OUT, 0);
    uint64_t sends, acks, errs;
    kp_interceptors_counts(ic, &sends, &acks, &errs);
    assert_int_equal(sends, 0);
    assert_int_equal(acks, 0);
    assert_int_equal(errs, 1);
    kp_interceptors_destroy(ic);
    kp_interceptors *none = kp_interceptors_new(NULL, NULL);
    assert_false(kp_interceptors_counts(none, &sends, &acks, &errs));
    kp_producer_record out;
    kp_interceptors_on_send(none, &in, &out, 0);
    assert_ptr_equal(out.value.ptr, in.value.ptr);
    kp_interceptors_destroy(none);
}

typedef struct user_state {
    int sends;
    int64_t last_offset;
    kp_err last_err;
} user_state;

static kp_err user_send(void *ctx, const kp_producer_record *in, kp_producer_record *out) {
    user_state *u = ctx;
    u->sends++;
    out->partition = 1; /* route everything to partition 1 */
    (void)in;
    return KP_ERR_NONE;
}

static kp_err user_ack(void *ctx, const kp_record_metadata *md, kp_err e) {
    user_state *u = ctx;
    u->last_offset = md->offset;
    u->last_err = e;
    return KP_ERR_NONE;
}

static void interceptor_user_hook_can_redirect_and_sees_acks(void **state) {
    (void)state;
    static const kp_interceptor_ops ops = { "user", user_send, user_ack, NULL };
    user_state u = { 0 };
    kp_interceptors *ic = kp_interceptors_new(NULL, NULL);
    assert_int_equal(kp_interceptors_add(ic, &ops, &u), KP_ERR_NONE);
    kp_producer_record in = rec("v"), out;
    kp_interceptors_on_send(ic, &in, &out, 0);
    assert_int_equal(out.partition, 1);
    assert_int_equal(u.sends, 1);
    kp_record_metadata md = { .topic = "t", .partition = 1, .offset = 42 };
    kp_interceptors_on_ack(ic, &md, KP_ERR_NOT_LEADER_FOR_PARTITION, 0);
    assert_int_equal(u.last_offset, 42);
    assert_int_equal(u.last_err, KP_ERR_NOT_LEADER_FOR_PARTITION);
    kp_interceptors_destroy(ic);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(interceptor_modifying_replaces_the_value),
        cmocka_unit_test(interceptor_failures_are_counted_and_ignored),
        cmocka_unit_test(interceptor_send_error_reaches_on_ack_with_offset_minus_one),
        cmocka_unit_test(interceptor_user_hook_can_redirect_and_sees_acks),
    };
    return cmocka_run_group_tests_name("interceptor", tests, NULL, NULL);
}
