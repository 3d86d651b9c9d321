/*
 * test_kinds.c — the kind-name role table (rp_kinds.c): the names the
 * charts, spans and explain rely on, layer prefixes, the "fault" rule, and
 * unknown names degrading to no role.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rp_kinds.h"

static void kinds_documented_names_have_their_roles(void **state) {
    (void)state;
    static const struct { const char *name; rp_role role; } cases[] = {
        {"send", RP_ROLE_SEND},
        {"append", RP_ROLE_APPEND},
        {"batch_created", RP_ROLE_BATCH_CREATED},
        {"batch_drained", RP_ROLE_BATCH_DRAINED},
        {"drain", RP_ROLE_BATCH_DRAINED},
        {"disconnected", RP_ROLE_REQUEST_ABORT_NODE},
        {"produce_request", RP_ROLE_PRODUCE_REQUEST},
        {"batch_done", RP_ROLE_BATCH_ACKED},
        {"batch_reenqueued", RP_ROLE_REENQUEUE},
        {"batch_split", RP_ROLE_SPLIT_PARENT},
        {"sender_expired", RP_ROLE_EXPIRED},
        {"request_sent", RP_ROLE_REQUEST_SENT},
        {"response_received", RP_ROLE_REQUEST_DONE},
        {"request_timed_out", RP_ROLE_REQUEST_DONE},
        {"request_disconnected", RP_ROLE_REQUEST_DONE},
        {"batch_completed", RP_ROLE_BATCH_ACKED},
        {"batch_failed", RP_ROLE_BATCH_FAILED},
        {"callback", RP_ROLE_CALLBACK},
        {"retry", RP_ROLE_RETRY},
        {"split", RP_ROLE_SPLIT},
        {"metadata_update_requested", RP_ROLE_METADATA_REFRESH},
        {"batch_expired", RP_ROLE_EXPIRED},
        {"buffer_allocated", RP_ROLE_BUFFER},
        {"leader_move", RP_ROLE_FAULT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (rp_kind_role(cases[i].name) != cases[i].role)
            fail_msg("%s: role %d, want %d", cases[i].name, rp_kind_role(cases[i].name),
                     cases[i].role);
}

static void kinds_prefixes_faults_and_unknowns(void **state) {
    (void)state;
    assert_int_equal(rp_kind_role("producer.batch_created"), RP_ROLE_BATCH_CREATED);
    assert_int_equal(rp_kind_role("a.b.retry"), RP_ROLE_RETRY);
    assert_int_equal(rp_kind_role("net.fault_blackhole"), RP_ROLE_FAULT);
    assert_int_equal(rp_kind_role("injected_fault"), RP_ROLE_FAULT);
    assert_int_equal(rp_kind_role("batch_created_extra"), RP_ROLE_NONE);
    assert_int_equal(rp_kind_role("Send"), RP_ROLE_NONE); /* names are exact */
    assert_int_equal(rp_kind_role(""), RP_ROLE_NONE);
    assert_int_equal(rp_kind_role("producer."), RP_ROLE_NONE);
    assert_int_equal(rp_kind_role(NULL), RP_ROLE_NONE);
    assert_string_equal(rp_role_name(RP_ROLE_REQUEST_DONE), "response_received");
    assert_string_equal(rp_role_name(RP_ROLE_NONE), "none");
    assert_string_equal(rp_api_name(0), "Produce");
    assert_string_equal(rp_api_name(18), "ApiVersions");
    assert_null(rp_api_name(1));
}

/* A name counts in its own layer only: simnet's "send" is bytes on a link,
 * the broker's "append" a log append; leader_change at topic creation is
 * no fault. */
static void kinds_names_count_in_their_layer(void **state) {
    (void)state;
    assert_int_equal(rp_kind_role_n(100, "send"), RP_ROLE_SEND);
    assert_int_equal(rp_kind_role_n(310, "send"), RP_ROLE_NONE);
    assert_int_equal(rp_kind_role_n(202, "append"), RP_ROLE_NONE);
    assert_int_equal(rp_kind_role_n(140, "append"), RP_ROLE_APPEND);
    assert_int_equal(rp_kind_role_n(321, "partition"), RP_ROLE_FAULT);
    assert_int_equal(rp_kind_role_n(130, "partition"), RP_ROLE_NONE);
    assert_int_equal(rp_kind_role_n(7, "send"), RP_ROLE_SEND); /* outside the ranges: any */
    assert_int_equal(rp_kind_role_n(900, "node_down"), RP_ROLE_FAULT);
    assert_int_equal(rp_kind_role_n(250, "my_fault_x"), RP_ROLE_FAULT);
    rp_event e;
    memset(&e, 0, sizeof e);
    kp_event_init(&e.ev, 207, 0);
    e.kind_name = "leader_change";
    e.ev.detail = "create";
    assert_int_equal(rp_event_role(&e), RP_ROLE_NONE);
    e.ev.detail = "move";
    assert_int_equal(rp_event_role(&e), RP_ROLE_FAULT);
    e.ev.detail = NULL;
    assert_int_equal(rp_event_role(&e), RP_ROLE_FAULT);
    e.ev.kind = 150;
    assert_int_equal(rp_event_role(&e), RP_ROLE_NONE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kinds_documented_names_have_their_roles),
        cmocka_unit_test(kinds_prefixes_faults_and_unknowns),
        cmocka_unit_test(kinds_names_count_in_their_layer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
