/*
 * test_conn.c — the request path of a bm_conn: frames fed in any chunking
 * (byte at a time, several at once), responses in request order while an
 * earlier one waits, malformed frames closing only that connection with a
 * logged reason, ApiVersions above v2 answered in v0 with
 * UNSUPPORTED_VERSION, unimplemented APIs, the injection FIFO with delays,
 * acks=0, throttling, and a broker crash closing its connections.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bm_testutil.h"
#include "bm_int.h" /* the client-id table's bound and count */

#define MS 1000

static const kp_api_versions_request no_body = { 0 };

static void metadata_req(kp_metadata_request *m, kp_slice *topics, const char *name) {
    memset(m, 0, sizeof *m);
    topics[0] = kp_slice_str(name);
    m->topic_count = 1;
    m->topics = topics;
    m->allow_auto_topic_creation = true;
}

static void api_versions_byte_at_a_time(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bmt_client *cl = bmt_client_open(w, 0);
    bmt_send(cl, KP_API_API_VERSIONS, 2, 11, &no_body, 1);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_API_VERSIONS, 2, &resp));
    assert_int_equal(resp.hdr.correlation_id, 11);
    assert_int_equal(resp.body.api_versions.error_code, 0);
    assert_int_equal(resp.body.api_versions.api_key_count, kp_api_supported_count);
    bool produce7 = false;
    for (int32_t i = 0; i < resp.body.api_versions.api_key_count; i++)
        if (resp.body.api_versions.api_keys[i].api_key == KP_API_PRODUCE)
            produce7 = resp.body.api_versions.api_keys[i].max_version == 7;
    assert_true(produce7);
    assert_int_equal(bm_conn_requests(cl->conn), 1);
    bmt_client_free(cl);
    bmt_free(w);
}

/* An ApiVersions request with the given client id, fed whole. */
static void api_versions_as(bmt_client *cl, const char *client_id, int32_t corr) {
    kp_request_header h = { KP_API_API_VERSIONS, 2, corr, kp_slice_str(client_id) };
    uint8_t buf[256];
    kp_writer wr;
    kp_wr_init(&wr, buf, sizeof buf);
    kp_request_frame_encode(&wr, &h, &no_body);
    assert_int_equal(wr.err, KP_ERR_NONE);
    bmt_feed(cl, buf, wr.len, 0);
}

/* bm_cluster_detail_is_stable: a REQUEST event's detail is the cluster's
 * copy of the client id, one per distinct id, shared by connections and
 * kept after they close. */
static void request_detail_is_the_clusters_copy_of_the_client_id(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bmt_client *a = bmt_client_open(w, 0), *b = bmt_client_open(w, 1);
    api_versions_as(a, "app", 1);
    const bmt_event *e = bmt_last(w, BM_EV_REQUEST);
    assert_non_null(e);
    assert_string_equal(e->detail, "app");
    const char *app = e->detail_ptr;
    assert_true(bm_cluster_detail_is_stable(w->c, app));
    char copy[8];
    snprintf(copy, sizeof copy, "%s", app);
    assert_false(bm_cluster_detail_is_stable(w->c, copy));
    api_versions_as(b, "app", 2);
    assert_ptr_equal(bmt_last(w, BM_EV_REQUEST)->detail_ptr, app);
    /* another id: its own copy; back to the first: the first's */
    api_versions_as(b, "other", 3);
    e = bmt_last(w, BM_EV_REQUEST);
    assert_string_equal(e->detail, "other");
    assert_ptr_not_equal(e->detail_ptr, app);
    assert_true(bm_cluster_detail_is_stable(w->c, e->detail_ptr));
    api_versions_as(b, "", 4); /* an empty id: "" (not NULL) as before */
    e = bmt_last(w, BM_EV_REQUEST);
    assert_non_null(e->detail_ptr);
    assert_string_equal(e->detail, "");
    for (int i = 0; i < 6; i++) /* more ids than the table first holds */
        api_versions_as(b, (const char *[]){ "c0", "c1", "c2", "c3", "c4", "c5" }[i], 10 + i);
    api_versions_as(b, "app", 5);
    assert_ptr_equal(bmt_last(w, BM_EV_REQUEST)->detail_ptr, app);
    /* the connection that made it closes: the copy stays */
    bmt_client_free(a);
    api_versions_as(b, "app", 6);
    assert_ptr_equal(bmt_last(w, BM_EV_REQUEST)->detail_ptr, app);
    assert_string_equal(app, "app");
    assert_true(bm_cluster_detail_is_stable(w->c, app));
    bmt_client_free(b);
    bmt_free(w);
}

/* A peer cycling client ids (a hostile live client) fills the cluster's
 * table up to its bound; later ids are still shown, from a copy of their
 * own, and the ids already kept stay stable. */
static void client_id_table_is_bounded(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bmt_client *a = bmt_client_open(w, 0);
    api_versions_as(a, "app", 1);
    const char *app = bmt_last(w, BM_EV_REQUEST)->detail_ptr;
    char id[16];
    for (int i = 0; i < 3 * BM_CLIENT_IDS_MAX; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        api_versions_as(a, id, 10 + i);
        const bmt_event *e = bmt_last(w, BM_EV_REQUEST);
        assert_string_equal(e->detail, id);
        assert_true(w->c->nclient_ids <= BM_CLIENT_IDS_MAX);
        /* the first BM_CLIENT_IDS_MAX - 1 new ids fit beside "app" */
        assert_int_equal(bm_cluster_detail_is_stable(w->c, e->detail_ptr), i < BM_CLIENT_IDS_MAX - 1);
    }
    assert_int_equal(w->c->nclient_ids, BM_CLIENT_IDS_MAX);
    api_versions_as(a, "app", 5000);
    assert_ptr_equal(bmt_last(w, BM_EV_REQUEST)->detail_ptr, app);
    bmt_client_free(a);
    bmt_free(w);
}

static void several_frames_in_one_feed_answer_in_order(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bmt_client *cl = bmt_client_open(w, 0);
    /* three frames back to back, fed in chunks of 7 */
    uint8_t buf[256];
    kp_writer wr;
    kp_wr_init(&wr, buf, sizeof buf);
    for (int32_t corr = 1; corr <= 3; corr++) {
        kp_request_header h = { KP_API_API_VERSIONS, 1, corr, kp_slice_str("c") };
        kp_request_frame_encode(&wr, &h, &no_body);
    }
    assert_int_equal(wr.err, KP_ERR_NONE);
    bmt_feed(cl, buf, wr.len, 7);
    kp_response resp;
    for (int32_t corr = 1; corr <= 3; corr++) {
        assert_true(bmt_recv(cl, KP_API_API_VERSIONS, 1, &resp));
        assert_int_equal(resp.hdr.correlation_id, corr);
    }
    assert_false(bmt_recv(cl, KP_API_API_VERSIONS, 1, &resp));
    bmt_client_free(cl);
    bmt_free(w);
}

static void api_versions_v3_gets_v0_unsupported_version_with_ranges(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bmt_client *cl = bmt_client_open(w, 0);
    /* librdkafka's opening request: ApiVersions v3 (flexible body). */
    static const uint8_t v3[] = {
        0, 0, 0, 0x1c, 0x00, 0x12, 0x00, 0x03, 0, 0, 0, 5, 0x00, 0x07, 'r', 'd', 'k', 'a', 'f',
        'k', 'a', 0x00, 0x0a, 'l', 'i', 'b', 'r', 'd', 'k', 'a', 'f', 'k', 'a', 0x06, '2', '.', '0',
        0x00,
    };
    uint8_t frame[sizeof v3];
    memcpy(frame, v3, sizeof v3);
    frame[3] = (uint8_t)(sizeof v3 - 4);
    bmt_feed(cl, frame, sizeof frame, 0);
    assert_false(cl->closed);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_API_VERSIONS, 0, &resp));
    assert_int_equal(resp.hdr.correlation_id, 5);
    assert_int_equal(resp.body.api_versions.error_code, KP_ERR_UNSUPPORTED_VERSION);
    assert_int_equal(resp.body.api_versions.api_key_count, kp_api_supported_count);
    /* the client goes on with v2 on the same connection */
    bmt_send(cl, KP_API_API_VERSIONS, 2, 6, &no_body, 0);
    assert_true(bmt_recv(cl, KP_API_API_VERSIONS, 2, &resp));
    assert_int_equal(resp.body.api_versions.error_code, 0);
    bmt_client_free(cl);
    bmt_free(w);
}

static void malformed_frames_close_only_that_connection(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    struct {
        const char *what;
        uint8_t bytes[24];
        size_t len;
        const char *reason;
    } cases[] = {
        { "negative size", { 0xff, 0xff, 0xff, 0xf0 }, 4, "frame size" },
        { "size above 100 MiB", { 0x06, 0x40, 0x00, 0x01 }, 4, "socket.request.max.bytes" },
        { "size shorter than a header", { 0, 0, 0, 3, 0, 18, 0 }, 7, "shorter than a request header" },
        { "unknown api key", { 0, 0, 0, 10, 0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0xff, 0xff }, 14, "not implemented" },
        { "JoinGroup, not implemented", { 0, 0, 0, 10, 0, 11, 0, 2, 0, 0, 0, 1, 0xff, 0xff }, 14, "JoinGroup" },
        { "Produce v2, below the range", { 0, 0, 0, 10, 0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff }, 14, "not supported" },
        { "truncated body", { 0, 0, 0, 12, 0, 3, 0, 7, 0, 0, 0, 1, 0xff, 0xff, 0, 0 }, 16, "malformed" },
        { "client id longer than frame", { 0, 0, 0, 10, 0, 18, 0, 1, 0, 0, 0, 1, 0x7f, 0xff }, 14, "malformed" },
    };
    bmt_client *good = bmt_client_open(w, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bmt_client *bad = bmt_client_open(w, 0);
        bmt_feed(bad, cases[i].bytes, cases[i].len, 1);
        if (!bad->closed || !strstr(bad->reason, cases[i].reason))
            fail_msg("%s: closed=%d reason '%s'", cases[i].what, bad->closed, bad->reason);
        const bmt_event *e = bmt_last(w, BM_EV_CONN_CLOSED);
        assert_non_null(e);
        assert_string_equal(e->detail, bad->reason);
        bmt_client_free(bad);
        /* the other connection and the broker go on */
        bmt_send(good, KP_API_API_VERSIONS, 2, (int32_t)i, &no_body, 0);
        kp_response resp;
        assert_true(bmt_recv(good, KP_API_API_VERSIONS, 2, &resp));
        assert_int_equal(resp.hdr.correlation_id, (int32_t)i);
    }
    bmt_client_free(good);
    bmt_free(w);
}

static void a_100mib_announcement_costs_nothing_until_bytes_arrive(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bmt_client *cl = bmt_client_open(w, 0);
    const uint8_t hdr[] = { 0x06, 0x40, 0x00, 0x00, 0, 0, 0, 7 }; /* exactly 100 MiB */
    bmt_feed(cl, hdr, sizeof hdr, 0);
    assert_false(cl->closed);
    assert_int_equal(bm_conn_requests(cl->conn), 0);
    bmt_client_free(cl); /* client goes away mid-frame */
    assert_int_equal(bmt_last(w, BM_EV_CONN_CLOSED)->detail[0], 'c');
    bmt_free(w);
}

static void acks_all_response_waits_and_later_requests_wait_behind_it(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bm_cluster_create_topic(w->c, "t", 1, 3);
    bmt_client *cl = bmt_client_open(w, 0);
    static uint8_t batch[1024];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 2, false, 5);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)n } };
    kp_produce_topic_data td = { kp_slice_str("t"), 1, &pd };
    kp_produce_request pr = { KP_SLICE_NULL, -1, 30000, 1, &td };
    bmt_send(cl, KP_API_PRODUCE, 7, 1, &pr, 0);
    bmt_send(cl, KP_API_API_VERSIONS, 2, 2, &no_body, 0);
    assert_int_equal(bmt_pending_frames(cl), 0); /* produce waits for the ISR */
    assert_int_equal(bm_conn_requests(cl->conn), 1); /* muted: ApiVersions not read yet */
    bmt_advance(w, 5 * MS);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    assert_int_equal(resp.hdr.correlation_id, 1);
    assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code, 0);
    assert_int_equal(resp.body.produce.topics[0].partitions[0].base_offset, 0);
    assert_int_equal(resp.body.produce.topics[0].partitions[0].log_start_offset, 0);
    assert_true(bmt_recv(cl, KP_API_API_VERSIONS, 2, &resp));
    assert_int_equal(resp.hdr.correlation_id, 2);
    bmt_client_free(cl);
    bmt_free(w);
}

/* Frames `first`..`first + n - 1`: every tenth a Produce (acks=all, so
 * it waits for the followers and mutes the connection), the rest
 * ApiVersions; returns the bytes written. */
static size_t queued_frames(uint8_t *buf, size_t cap, int32_t first, int32_t n,
                            const kp_produce_request *pr) {
    kp_writer wr;
    kp_wr_init(&wr, buf, cap);
    for (int32_t corr = first; corr < first + n; corr++) {
        bool produce = corr % 10 == 1;
        kp_request_header h = { produce ? KP_API_PRODUCE : KP_API_API_VERSIONS, produce ? 7 : 2,
                                corr, kp_slice_str("queued") };
        kp_request_frame_encode(&wr, &h, produce ? (const void *)pr : (const void *)&no_body);
    }
    assert_int_equal(wr.err, KP_ERR_NONE);
    return wr.len;
}

static void frames_queued_behind_waits_survive_compaction_and_growth(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bm_cluster_create_topic(w->c, "t", 1, 3);
    bmt_client *cl = bmt_client_open(w, 0);
    static uint8_t batch[1024], buf[65536];
    size_t bn = bmt_batch(batch, sizeof batch, -1, -1, -1, 2, false, 5);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)bn } };
    kp_produce_topic_data td = { kp_slice_str("t"), 1, &pd };
    kp_produce_request pr = { KP_SLICE_NULL, -1, 30000, 1, &td };
    /* 60 frames in odd chunks: the first Produce waits, 59 frames queue;
     * after each wait some are taken (the input is read from an offset)
     * and the next Produce waits with the rest still unread; then 200
     * more arrive 700 bytes per wait, which must grow the buffer or move
     * the unread rest to its front without losing, repeating or
     * reordering a byte. */
    size_t n = queued_frames(buf, sizeof buf, 1, 60, &pr);
    bmt_feed(cl, buf, n, 97);
    assert_int_equal(bm_conn_requests(cl->conn), 1);
    int32_t next = 1;
    kp_response resp;
    for (int round = 0; round < 5; round++) {
        bmt_advance(w, 5 * MS);
        while (bmt_pending_frames(cl) > 0) {
            bool produce = next % 10 == 1;
            assert_true(bmt_recv(cl, produce ? KP_API_PRODUCE : KP_API_API_VERSIONS,
                                 produce ? 7 : 2, &resp));
            assert_int_equal(resp.hdr.correlation_id, next);
            next++;
        }
        assert_true(next > 1 + 10 * round);
    }
    n = queued_frames(buf, sizeof buf, 61, 200, &pr);
    for (int round = 0; round < 60 && next <= 260; round++) {
        size_t off = (size_t)round * 700;
        if (off < n)
            bmt_feed(cl, buf + off, n - off < 700 ? n - off : 700, 0);
        bmt_advance(w, 5 * MS);
        while (bmt_pending_frames(cl) > 0) {
            bool produce = next % 10 == 1;
            assert_true(bmt_recv(cl, produce ? KP_API_PRODUCE : KP_API_API_VERSIONS,
                                 produce ? 7 : 2, &resp));
            assert_int_equal(resp.hdr.correlation_id, next);
            next++;
        }
    }
    assert_int_equal(next, 261);
    assert_int_equal(bm_conn_requests(cl->conn), 260);
    assert_false(cl->closed);
    bmt_client_free(cl);
    bmt_free(w);
}

/* A keeping carrier (simnet's links): the frames queued behind an
 * acks=all wait stay with the carrier, not copied into the connection,
 * until taken; frames across the end of the carrier's ring are taken as
 * well; the answers and their order are those of the copying path. */
static void keeping_carrier_holds_queued_frames_until_taken(void **state) {
    (void)state;
    static uint8_t batch[1024], buf[65536];
    uint8_t *out[2];
    size_t out_len[2];
    for (int keeping = 0; keeping < 2; keeping++) {
        bmt_world *w = bmt_new(NULL);
        bm_cluster_create_topic(w->c, "t", 1, 3);
        /* a ring starting 50 bytes before its end: the first frame wraps */
        bmt_client *cl = keeping ? bmt_client_open_keeping(w, 0, 16384, 16384 - 50) : bmt_client_open(w, 0);
        size_t bn = bmt_batch(batch, sizeof batch, -1, -1, -1, 2, false, 5);
        kp_produce_partition_data pd = { 0, { batch, (int32_t)bn } };
        kp_produce_topic_data td = { kp_slice_str("t"), 1, &pd };
        kp_produce_request pr = { KP_SLICE_NULL, -1, 30000, 1, &td };
        size_t n = queued_frames(buf, sizeof buf, 1, 40, &pr);
        assert_true(n < 16384);
        bmt_feed(cl, buf, n, 97);
        assert_int_equal(bm_conn_requests(cl->conn), 1); /* the Produce waits */
        size_t first;
        assert_int_equal(kp_frame_peek(buf, n, INT32_MAX, &first), KP_ERR_NONE);
        if (keeping) { /* the first frame taken, the 39 behind it held */
            assert_int_equal(cl->released, first);
            assert_int_equal(cl->ring_len, n - first);
        }
        for (int round = 0; round < 10 && bm_conn_requests(cl->conn) < 40; round++)
            bmt_advance(w, 5 * MS);
        assert_int_equal(bm_conn_requests(cl->conn), 40);
        assert_int_equal(bm_conn_responses(cl->conn), 40);
        if (keeping) {
            assert_int_equal(cl->ring_len, 0);
            assert_int_equal(cl->released, n);
        }
        /* a frame fed a byte at a time across the ring's end */
        n = queued_frames(buf, sizeof buf, 41, 3, &pr);
        bmt_feed(cl, buf, n, 1);
        for (int round = 0; round < 10 && bm_conn_responses(cl->conn) < 43; round++)
            bmt_advance(w, 5 * MS);
        assert_int_equal(bm_conn_responses(cl->conn), 43);
        assert_false(cl->closed);
        out[keeping] = malloc(cl->out_len);
        assert_non_null(out[keeping]);
        memcpy(out[keeping], cl->out, cl->out_len);
        out_len[keeping] = cl->out_len;
        int32_t next = 1;
        kp_response resp;
        while (bmt_pending_frames(cl) > 0) {
            bool produce = next % 10 == 1;
            assert_true(bmt_recv(cl, produce ? KP_API_PRODUCE : KP_API_API_VERSIONS, produce ? 7 : 2, &resp));
            assert_int_equal(resp.hdr.correlation_id, next);
            next++;
        }
        assert_int_equal(next, 44);
        bmt_client_free(cl);
        bmt_free(w);
    }
    assert_int_equal(out_len[0], out_len[1]);
    assert_memory_equal(out[0], out[1], out_len[0]);
    free(out[0]);
    free(out[1]);
}

static void feed_borrows_the_bytes_only_for_the_call(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bm_cluster_create_topic(w->c, "t", 1, 3);
    bmt_client *cl = bmt_client_open(w, 0);
    static uint8_t batch[1024], buf[8192];
    size_t bn = bmt_batch(batch, sizeof batch, -1, -1, -1, 2, false, 5);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)bn } };
    kp_produce_topic_data td = { kp_slice_str("t"), 1, &pd };
    kp_produce_request pr = { KP_SLICE_NULL, -1, 30000, 1, &td };
    /* frames 2..9: ApiVersions, answered straight from the fed bytes;
     * frame 11 a Produce that waits; 12..14 queue behind it; the feed
     * ends inside frame 14. Every fed buffer is wiped right after the
     * call, so whatever broker_mock still needs must have been copied. */
    size_t n = queued_frames(buf, sizeof buf, 2, 13, &pr);
    size_t cut = n - 5;
    static uint8_t piece[8192];
    memcpy(piece, buf, cut);
    bm_conn_feed(cl->conn, piece, cut);
    memset(piece, 0xEE, sizeof piece);
    bmt_poll(w);
    assert_int_equal(bm_conn_requests(cl->conn), 10); /* 2..11 taken */
    memcpy(piece, buf + cut, 5);
    bm_conn_feed(cl->conn, piece, 5);
    memset(piece, 0xEE, sizeof piece);
    bmt_advance(w, 5 * MS);
    kp_response resp;
    for (int32_t corr = 2; corr <= 14; corr++) {
        bool produce = corr % 10 == 1;
        assert_true(bmt_recv(cl, produce ? KP_API_PRODUCE : KP_API_API_VERSIONS, produce ? 7 : 2,
                             &resp));
        assert_int_equal(resp.hdr.correlation_id, corr);
    }
    assert_false(cl->closed);
    bmt_client_free(cl);
    bmt_free(w);
}

static void acks_all_wait_answers_not_leader_when_the_leader_moves(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bm_cluster_create_topic(w->c, "t", 1, 3); /* leader broker 0 */
    bm_cluster_pause_follower(w->c, 2, true); /* the ISR {0,1,2} cannot all reach it */
    bmt_client *cl = bmt_client_open(w, 0);
    static uint8_t batch[1024];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 2, false, 5);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)n } };
    kp_produce_topic_data td = { kp_slice_str("t"), 1, &pd };
    kp_produce_request pr = { KP_SLICE_NULL, -1, 30000, 1, &td };
    bmt_send(cl, KP_API_PRODUCE, 7, 1, &pr, 0);
    bmt_advance(w, 20 * MS); /* several polls: still waiting, HW short */
    assert_int_equal(bmt_pending_frames(cl), 0);
    assert_int_equal(bm_cluster_move_leader(w->c, "t", 0, 1, false), KP_ERR_NONE);
    bmt_advance(w, 1 * MS);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    assert_int_equal(resp.hdr.correlation_id, 1);
    assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code,
                     KP_ERR_NOT_LEADER_FOR_PARTITION);
    bmt_client_free(cl);
    bmt_free(w);
}

static void produce_response_keeps_topics_in_request_order(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bm_cluster_create_topic(w->c, "a", 2, 1);
    bmt_client *cl = bmt_client_open(w, 0);
    static uint8_t batch[1024];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 1, false, 5);
    kp_produce_partition_data pd[2] = { { 0, { batch, (int32_t)n } }, { 1, { batch, (int32_t)n } } };
    kp_produce_topic_data td[3] = {
        { kp_slice_str("a"), 2, pd },      /* a-0 on broker 0, a-1 on broker 1 */
        { kp_slice_str("empty"), 0, NULL },
        { kp_slice_str("zzz"), 1, pd },
    };
    kp_produce_request pr = { KP_SLICE_NULL, 1, 1000, 3, td };
    bmt_send(cl, KP_API_PRODUCE, 7, 1, &pr, 0);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    kp_produce_response *r = &resp.body.produce;
    assert_int_equal(r->topic_count, 3);
    assert_true(kp_slice_eq_str(r->topics[0].topic, "a"));
    assert_true(kp_slice_eq_str(r->topics[1].topic, "empty"));
    assert_true(kp_slice_eq_str(r->topics[2].topic, "zzz"));
    assert_int_equal(r->topics[0].partitions[0].error_code, 0);
    assert_int_equal(r->topics[0].partitions[1].error_code, KP_ERR_NOT_LEADER_FOR_PARTITION);
    assert_int_equal(r->topics[1].partition_count, 0);
    assert_int_equal(r->topics[2].partitions[0].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    bmt_client_free(cl);
    bmt_free(w);
}

static void acks_all_times_out_with_request_timed_out(void **state) {
    (void)state;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.min_insync_replicas = 1;
    bmt_world *w = bmt_new(&conf);
    bm_cluster_create_topic(w->c, "t", 1, 3);
    bm_cluster_pause_follower(w->c, 1, true);
    bmt_client *cl = bmt_client_open(w, 0);
    static uint8_t batch[1024];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 1, false, 5);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)n } };
    kp_produce_topic_data td = { kp_slice_str("t"), 1, &pd };
    kp_produce_request pr = { KP_SLICE_NULL, -1, 1500, 1, &td };
    bmt_send(cl, KP_API_PRODUCE, 5, 9, &pr, 0);
    bmt_advance(w, 1499 * MS);
    assert_int_equal(bmt_pending_frames(cl), 0);
    bmt_advance(w, 1 * MS);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 5, &resp));
    assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code, KP_ERR_REQUEST_TIMED_OUT);
    bmt_client_free(cl);
    bmt_free(w);
}

/* The handler marks an acks=all wait as checked when its appends moved
 * nothing a check reads (the pump's first resume would find every
 * partition still waiting): with timeout_ms = 0 the deadline is now, so
 * it still times out at once; an append in the same request that moves
 * an HW (a one-replica topic) leaves it unmarked, and the partition that
 * waits is answered once replicated, like a marked one. */
static void acks_all_first_check_at_the_request(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bm_cluster_create_topic(w->c, "t", 1, 3);
    bm_cluster_create_topic(w->c, "one", 1, 1);
    bmt_client *cl = bmt_client_open(w, 0); /* leads t-0 and one-0 */
    static uint8_t batch[1024];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 1, false, 5);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)n } };
    kp_produce_topic_data td[2] = { { kp_slice_str("t"), 1, &pd }, { kp_slice_str("one"), 1, &pd } };
    kp_response resp;
    /* timeout 0: answered at once, timed out */
    kp_produce_request pr = { KP_SLICE_NULL, -1, 0, 1, td };
    bmt_send(cl, KP_API_PRODUCE, 7, 1, &pr, 0);
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code, KP_ERR_REQUEST_TIMED_OUT);
    bmt_advance(w, 10 * MS);
    /* nothing moved by the append: marked checked, answered once the
     * followers have it */
    pr.timeout_ms = 30000;
    bmt_send(cl, KP_API_PRODUCE, 7, 2, &pr, 0);
    assert_non_null(cl->conn->wait);
    assert_true(cl->conn->wait->seen_gen == w->c->ack_gen + 1);
    assert_false(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    bmt_advance(w, 10 * MS);
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code, KP_ERR_NONE);
    assert_int_equal(resp.body.produce.topics[0].partitions[0].base_offset, 1);
    /* the second append moves one-0's HW (it is its only replica) */
    pr.topic_count = 2;
    uint64_t gen = w->c->ack_gen;
    bmt_send(cl, KP_API_PRODUCE, 7, 3, &pr, 0);
    assert_true(w->c->ack_gen > gen);
    assert_non_null(cl->conn->wait);
    assert_true(cl->conn->wait->seen_gen == w->c->ack_gen + 1); /* by the pump's check */
    assert_false(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    bmt_advance(w, 10 * MS);
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code, KP_ERR_NONE);
    assert_int_equal(resp.body.produce.topics[0].partitions[0].base_offset, 2);
    assert_int_equal(resp.body.produce.topics[1].partitions[0].error_code, KP_ERR_NONE);
    assert_int_equal(resp.body.produce.topics[1].partitions[0].base_offset, 0);
    bmt_client_free(cl);
    bmt_free(w);
}

static void acks_zero_has_no_response_and_errors_close(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bm_cluster_create_topic(w->c, "t", 1, 1);
    bmt_client *cl = bmt_client_open(w, 0);
    static uint8_t batch[1024];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 1, false, 5);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)n } };
    kp_produce_topic_data td = { kp_slice_str("t"), 1, &pd };
    kp_produce_request pr = { KP_SLICE_NULL, 0, 1000, 1, &td };
    bmt_send(cl, KP_API_PRODUCE, 7, 1, &pr, 0);
    bmt_send(cl, KP_API_API_VERSIONS, 2, 2, &no_body, 0);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_API_VERSIONS, 2, &resp)); /* the only answer */
    assert_int_equal(resp.hdr.correlation_id, 2);
    /* an acks=0 produce that fails closes the connection (KafkaApis 2.1) */
    kp_produce_topic_data td2 = { kp_slice_str("nope"), 1, &pd };
    kp_produce_request pr2 = { KP_SLICE_NULL, 0, 1000, 1, &td2 };
    bmt_send(cl, KP_API_PRODUCE, 7, 3, &pr2, 0);
    assert_true(cl->closed);
    assert_non_null(strstr(cl->reason, "UNKNOWN_TOPIC_OR_PARTITION"));
    bmt_client_free(cl);
    bmt_free(w);
}

static void injection_fifo_per_broker_and_api_with_delay(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bm_cluster_create_topic(w->c, "t", 1, 1);
    /* the next 2 Produce to broker 0: NOT_LEADER, 10 ms late; then 1 with
     * no error but 50 ms late */
    assert_int_equal(bm_cluster_inject(w->c, 0, KP_API_PRODUCE, 2, KP_ERR_NOT_LEADER_FOR_PARTITION,
                                       10 * MS), KP_ERR_NONE);
    assert_int_equal(bm_cluster_inject(w->c, 0, KP_API_PRODUCE, 1, KP_ERR_NONE, 50 * MS), KP_ERR_NONE);
    assert_int_equal(bm_cluster_inject(w->c, 0, KP_API_PRODUCE, 0, KP_ERR_NONE, 0), KP_ERR__INVALID_ARG);
    assert_int_equal(bm_cluster_injections_pending(w->c), 3);
    bmt_client *cl = bmt_client_open(w, 0);
    bmt_client *other = bmt_client_open(w, 1);
    /* ApiVersions is not matched by a Produce rule */
    bmt_send(other, KP_API_API_VERSIONS, 2, 1, &no_body, 0);
    kp_response resp;
    assert_true(bmt_recv(other, KP_API_API_VERSIONS, 2, &resp));
    static uint8_t batch[1024];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 1, false, 5);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)n } };
    kp_produce_topic_data td = { kp_slice_str("t"), 1, &pd };
    kp_produce_request pr = { KP_SLICE_NULL, 1, 1000, 1, &td };
    kp_err expect[3] = { KP_ERR_NOT_LEADER_FOR_PARTITION, KP_ERR_NOT_LEADER_FOR_PARTITION, KP_ERR_NONE };
    kp_time_us delay[3] = { 10 * MS, 10 * MS, 50 * MS };
    for (int i = 0; i < 3; i++) {
        bmt_send(cl, KP_API_PRODUCE, 7, 10 + i, &pr, 0);
        bmt_advance(w, delay[i] - 1);
        assert_int_equal(bmt_pending_frames(cl), 0);
        bmt_advance(w, 1);
        assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
        assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code, expect[i]);
    }
    assert_int_equal(bm_cluster_injections_pending(w->c), 0);
    assert_int_equal(bmt_count(w, BM_EV_INJECTED), 3);
    /* rules used up: immediate, normal */
    bmt_send(cl, KP_API_PRODUCE, 7, 20, &pr, 0);
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code, 0);
    assert_int_equal(resp.body.produce.topics[0].partitions[0].base_offset, 1); /* one append before */
    /* an injected KAFKA_STORAGE_ERROR reaches a v3 client as NOT_LEADER */
    bm_cluster_inject(w->c, 0, KP_API_PRODUCE, 2, KP_ERR_KAFKA_STORAGE_ERROR, 0);
    bmt_send(cl, KP_API_PRODUCE, 3, 21, &pr, 0);
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 3, &resp));
    assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code, KP_ERR_NOT_LEADER_FOR_PARTITION);
    bmt_send(cl, KP_API_PRODUCE, 4, 22, &pr, 0);
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 4, &resp));
    assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code, KP_ERR_KAFKA_STORAGE_ERROR);
    /* any-broker, any-API rule */
    bm_cluster_inject(w->c, -1, -1, 1, KP_ERR_UNKNOWN_SERVER_ERROR, 0);
    bmt_send(other, KP_API_API_VERSIONS, 2, 2, &no_body, 0);
    assert_true(bmt_recv(other, KP_API_API_VERSIONS, 2, &resp));
    assert_int_equal(resp.body.api_versions.error_code, KP_ERR_UNKNOWN_SERVER_ERROR);
    bmt_client_free(other);
    bmt_client_free(cl);
    bmt_free(w);
}

static void produce_quota_answers_at_once_and_mutes_the_channel(void **state) {
    (void)state;
    bm_config conf;
    bm_config_defaults(&conf);
    conf.produce_quota_bytes_per_sec = 1000;
    bmt_world *w = bmt_new(&conf);
    bm_cluster_create_topic(w->c, "t", 1, 1);
    static uint8_t batch[40000];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 1, false, 20000);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)n } };
    kp_produce_topic_data td = { kp_slice_str("t"), 1, &pd };
    kp_produce_request pr = { KP_SLICE_NULL, 1, 1000, 1, &td };
    kp_response resp;
    /* KafkaApis 2.1, every version (v7 and v3 here): the response goes out
     * at once with throttle_time_ms, then the channel is muted */
    const int16_t versions[2] = { 7, 3 };
    for (int i = 0; i < 2; i++) {
        bmt_client *cl = bmt_client_open(w, 0);
        bmt_send(cl, KP_API_PRODUCE, versions[i], 1, &pr, 0);
        assert_true(bmt_recv(cl, KP_API_PRODUCE, versions[i], &resp));
        int32_t th = resp.body.produce.throttle_time_ms;
        if (i == 0) {
            /* rate = 20000+ bytes over the 10 s minimum window = 2000 B/s;
             * quota 1000 -> (2000-1000)/1000 * 10000 ms = ~10 s */
            assert_in_range(th, 10000, 10200);
        } else {
            assert_true(th > 10000);
        }
        bmt_send(cl, KP_API_API_VERSIONS, 2, 2, &no_body, 0);
        bmt_advance(w, (kp_time_us)th * MS - 1);
        assert_int_equal(bmt_pending_frames(cl), 0); /* muted: not read yet */
        bmt_advance(w, 1);
        assert_true(bmt_recv(cl, KP_API_API_VERSIONS, 2, &resp));
        bmt_client_free(cl);
    }
    assert_int_equal(bmt_count(w, BM_EV_THROTTLE), 2);
    bmt_free(w);
}

static void crash_closes_the_brokers_connections_and_refuses_new_ones(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bmt_client *a = bmt_client_open(w, 1);
    bmt_client *b = bmt_client_open(w, 2);
    bm_cluster_crash_broker(w->c, 1);
    assert_true(a->closed);
    assert_string_equal(a->reason, "broker crashed");
    assert_false(b->closed);
    static const bm_conn_io io = { .write = NULL, .close = NULL };
    assert_null(bm_conn_open(w->c, 1, &io, NULL));
    assert_null(bm_conn_open(w->c, 7, &io, NULL));
    bm_cluster_restart_broker(w->c, 1);
    bm_conn *c = bm_conn_open(w->c, 1, &io, NULL);
    assert_non_null(c);
    bm_conn_close(c);
    bmt_client_free(a);
    bmt_client_free(b);
    bmt_free(w);
}

static void responses_small_then_large_then_small_reuse_one_buffer(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bm_cluster_create_topic(w->c, "wide", 64, 3); /* a Metadata answer of several KB */
    bmt_client *cl = bmt_client_open(w, 0);
    kp_metadata_request m;
    kp_slice topics[1];
    metadata_req(&m, topics, "wide");
    kp_response resp;
    for (int32_t corr = 1; corr <= 6; corr++) {
        if (corr % 3 == 2) {
            bmt_send(cl, KP_API_METADATA, 7, corr, &m, 0);
            assert_true(bmt_recv(cl, KP_API_METADATA, 7, &resp));
            assert_int_equal(resp.hdr.correlation_id, corr);
            kp_metadata_response *md = &resp.body.metadata;
            assert_int_equal(md->topic_count, 1);
            assert_int_equal(md->topics[0].error_code, 0);
            assert_int_equal(md->topics[0].partition_count, 64);
            for (int32_t p = 0; p < 64; p++) {
                assert_int_equal(md->topics[0].partitions[p].partition, p);
                assert_int_equal(md->topics[0].partitions[p].replica_count, 3);
            }
        } else {
            bmt_send(cl, KP_API_API_VERSIONS, 2, corr, &no_body, 0);
            assert_true(bmt_recv(cl, KP_API_API_VERSIONS, 2, &resp));
            assert_int_equal(resp.hdr.correlation_id, corr);
            assert_int_equal(resp.body.api_versions.api_key_count, kp_api_supported_count);
        }
    }
    assert_false(bmt_recv(cl, KP_API_API_VERSIONS, 2, &resp));
    bmt_client_free(cl);
    bmt_free(w);
}

static void metadata_auto_creates_with_leader_not_available_first(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    bmt_client *cl = bmt_client_open(w, 0);
    kp_metadata_request m;
    kp_slice topics[1];
    metadata_req(&m, topics, "fresh");
    bmt_send(cl, KP_API_METADATA, 7, 1, &m, 0);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_METADATA, 7, &resp));
    kp_metadata_response *md = &resp.body.metadata;
    assert_int_equal(md->broker_count, 3);
    assert_int_equal(md->brokers[2].port, 9094);
    assert_int_equal(md->controller_id, 0);
    assert_int_equal(md->topic_count, 1);
    assert_int_equal(md->topics[0].error_code, KP_ERR_LEADER_NOT_AVAILABLE);
    bmt_send(cl, KP_API_METADATA, 7, 2, &m, 0);
    assert_true(bmt_recv(cl, KP_API_METADATA, 7, &resp));
    md = &resp.body.metadata;
    assert_int_equal(md->topics[0].error_code, 0);
    assert_int_equal(md->topics[0].partition_count, 1);
    assert_int_equal(md->topics[0].partitions[0].leader, 0);
    assert_int_equal(md->topics[0].partitions[0].replica_count, 3);
    assert_int_equal(md->topics[0].partitions[0].isr_count, 3);
    /* v4+ with allow_auto_topic_creation=false: unknown */
    metadata_req(&m, topics, "other");
    m.allow_auto_topic_creation = false;
    bmt_send(cl, KP_API_METADATA, 7, 3, &m, 0);
    assert_true(bmt_recv(cl, KP_API_METADATA, 7, &resp));
    assert_int_equal(resp.body.metadata.topics[0].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    /* invalid name */
    metadata_req(&m, topics, "bad/name");
    bmt_send(cl, KP_API_METADATA, 7, 4, &m, 0);
    assert_true(bmt_recv(cl, KP_API_METADATA, 7, &resp));
    assert_int_equal(resp.body.metadata.topics[0].error_code, KP_ERR_INVALID_TOPIC_EXCEPTION);
    /* null list = all topics; a crashed broker is not listed and shows
     * as offline; a partition without a leader says LEADER_NOT_AVAILABLE */
    bm_cluster_create_topic(w->c, "solo", 1, 1); /* on broker 0 */
    bm_cluster_crash_broker(w->c, 0);
    bmt_client_free(cl);
    cl = bmt_client_open(w, 1);
    m.topic_count = -1;
    bmt_send(cl, KP_API_METADATA, 7, 5, &m, 0);
    assert_true(bmt_recv(cl, KP_API_METADATA, 7, &resp));
    md = &resp.body.metadata;
    assert_int_equal(md->broker_count, 2);
    assert_int_equal(md->topic_count, 2);
    assert_true(kp_slice_eq_str(md->topics[1].topic, "solo"));
    assert_int_equal(md->topics[1].partitions[0].error_code, KP_ERR_LEADER_NOT_AVAILABLE);
    assert_int_equal(md->topics[1].partitions[0].leader, -1);
    assert_int_equal(md->topics[0].partitions[0].leader, 1);
    assert_int_equal(md->topics[0].partitions[0].offline_replica_count, 1);
    bmt_client_free(cl);
    bmt_free(w);
}

/* A carrier whose held bytes are pieces in different places: the
 * client's frame header and partition headers in one, its batches lent
 * where they lie (simnet's sn_conn_sendv_keep). */
typedef struct lent_carrier {
    const uint8_t *piece[8];
    size_t len[8];
    int n;
    size_t released;
    uint8_t out[8192];
    size_t out_len;
    bool closed;
    const uint8_t *lent[2]; /* the lent batches, and how often they were asked for */
    size_t lent_len[2];
    int lent_asks;
} lent_carrier;

static const uint8_t *lent_kept(void *ctx, size_t off, size_t *len) {
    lent_carrier *lc = ctx;
    size_t at = lc->released + off;
    for (int i = 0; i < lc->n; i++) {
        if (at < lc->len[i]) {
            *len = lc->len[i] - at;
            for (int k = 0; k < 2; k++)
                lc->lent_asks += lc->piece[i] + at >= lc->lent[k] && lc->piece[i] + at < lc->lent[k] + lc->lent_len[k];
            return lc->piece[i] + at;
        }
        at -= lc->len[i];
    }
    *len = 0;
    return NULL;
}
static void lent_release(void *ctx, size_t n) { ((lent_carrier *)ctx)->released += n; }
static void lent_write(void *ctx, const uint8_t *b, size_t n) {
    lent_carrier *lc = ctx;
    assert_true(lc->out_len + n <= sizeof lc->out);
    memcpy(lc->out + lc->out_len, b, n);
    lc->out_len += n;
}
static void lent_close(void *ctx, const char *why) {
    (void)why;
    ((lent_carrier *)ctx)->closed = true;
}

/* A Produce frame whose batches arrive as runs of their own is taken with
 * the batches read in place (kp_request_frame_decode_gathered) and answered
 * exactly as the same frame fed in one piece; a frame whose large runs are
 * not records (the same bytes cut elsewhere) is joined and answered the
 * same way too. */
static void lent_batches_are_taken_where_they_lie(void **state) {
    (void)state;
    static uint8_t b0[2048], b1[2048], frame[8192];
    size_t n0 = bmt_batch(b0, sizeof b0, -1, -1, -1, 4, false, 100);
    size_t n1 = bmt_batch(b1, sizeof b1, -1, -1, -1, 3, false, 120);
    assert_true(n0 >= 256 && n1 >= 256);
    kp_produce_partition_data pd[2] = { { 0, { b0, (int32_t)n0 } }, { 1, { b1, (int32_t)n1 } } };
    kp_produce_topic_data td = { kp_slice_str("t"), 2, pd };
    kp_produce_request pr = { KP_SLICE_NULL, 1, 30000, 1, &td };
    kp_request_header h = { KP_API_PRODUCE, 7, 9, kp_slice_str("lender") };
    kp_writer wr;
    kp_wr_init(&wr, frame, sizeof frame);
    kp_request_frame_encode(&wr, &h, &pr);
    assert_int_equal(wr.err, KP_ERR_NONE);
    size_t n = wr.len;
    const uint8_t *a0 = memmem(frame, n, b0, n0), *a1 = memmem(frame, n, b1, n1);
    assert_non_null(a0);
    assert_non_null(a1);
    uint8_t *out[3];
    size_t out_len[3];
    for (int mode = 0; mode < 3; mode++) {
        bmt_world *w = bmt_new(NULL);
        bm_cluster_create_topic(w->c, "t", 2, 1);
        lent_carrier lc = { .n = 0, .lent = { b0, b1 }, .lent_len = { n0, n1 } };
        if (mode == 0) { /* one piece */
            lc.piece[lc.n] = frame, lc.len[lc.n++] = n;
        } else if (mode == 1) { /* headers, lent batch, header, lent batch */
            lc.piece[lc.n] = frame, lc.len[lc.n++] = (size_t)(a0 - frame);
            lc.piece[lc.n] = b0, lc.len[lc.n++] = n0;
            lc.piece[lc.n] = a0 + n0, lc.len[lc.n++] = (size_t)(a1 - a0) - n0;
            lc.piece[lc.n] = b1, lc.len[lc.n++] = n1;
            if (a1 + n1 < frame + n)
                lc.piece[lc.n] = a1 + n1, lc.len[lc.n++] = (size_t)(frame + n - a1) - n1;
        } else { /* cut in the middle of the batches: not records */
            size_t c0 = (size_t)(a0 - frame) + 100, c1 = (size_t)(a1 - frame) + 50;
            lc.piece[lc.n] = frame, lc.len[lc.n++] = c0;
            lc.piece[lc.n] = frame + c0, lc.len[lc.n++] = c1 - c0;
            lc.piece[lc.n] = frame + c1, lc.len[lc.n++] = n - c1;
        }
        bm_conn_io io = { lent_write, lent_close, lent_kept, lent_release };
        bm_conn *conn = bm_conn_open(w->c, 0, &io, &lc);
        assert_non_null(conn);
        for (int i = 0; i < lc.n; i++) /* as simnet's reader: run by run */
            bm_conn_feed_kept(conn, lc.piece[i], lc.len[i]);
        bmt_advance(w, 5 * MS);
        assert_false(lc.closed);
        assert_int_equal(lc.released, n);
        assert_int_equal(bm_conn_requests(conn), 1);
        assert_int_equal(bm_conn_responses(conn), 1);
        if (mode == 1) /* each batch asked for once (walked, then read in place) */
            assert_int_equal(lc.lent_asks, 2);
        out[mode] = malloc(lc.out_len);
        memcpy(out[mode], lc.out, lc.out_len);
        out_len[mode] = lc.out_len;
        bm_conn_close(conn);
        bmt_free(w);
    }
    for (int mode = 1; mode < 3; mode++) {
        assert_int_equal(out_len[mode], out_len[0]);
        assert_memory_equal(out[mode], out[0], out_len[0]);
    }
    kp_response resp;
    kp_arena *ar = kp_arena_new(0, 0);
    memset(&resp, 0, sizeof resp);
    assert_int_equal(kp_response_frame_decode(out[0], out_len[0], KP_API_PRODUCE, 7, ar, &resp), KP_ERR_NONE);
    assert_int_equal(resp.body.produce.topic_count, 1);
    assert_int_equal(resp.body.produce.topics[0].partition_count, 2);
    assert_int_equal(resp.body.produce.topics[0].partitions[0].error_code, 0); /* broker 0 leads 0 */
    assert_int_equal(resp.body.produce.topics[0].partitions[0].base_offset, 0);
    kp_arena_destroy(ar);
    for (int mode = 0; mode < 3; mode++)
        free(out[mode]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_versions_byte_at_a_time),
        cmocka_unit_test(several_frames_in_one_feed_answer_in_order),
        cmocka_unit_test(request_detail_is_the_clusters_copy_of_the_client_id),
        cmocka_unit_test(client_id_table_is_bounded),
        cmocka_unit_test(api_versions_v3_gets_v0_unsupported_version_with_ranges),
        cmocka_unit_test(malformed_frames_close_only_that_connection),
        cmocka_unit_test(a_100mib_announcement_costs_nothing_until_bytes_arrive),
        cmocka_unit_test(acks_all_response_waits_and_later_requests_wait_behind_it),
        cmocka_unit_test(frames_queued_behind_waits_survive_compaction_and_growth),
        cmocka_unit_test(feed_borrows_the_bytes_only_for_the_call),
        cmocka_unit_test(keeping_carrier_holds_queued_frames_until_taken),
        cmocka_unit_test(lent_batches_are_taken_where_they_lie),
        cmocka_unit_test(acks_all_wait_answers_not_leader_when_the_leader_moves),
        cmocka_unit_test(produce_response_keeps_topics_in_request_order),
        cmocka_unit_test(acks_all_times_out_with_request_timed_out),
        cmocka_unit_test(acks_all_first_check_at_the_request),
        cmocka_unit_test(acks_zero_has_no_response_and_errors_close),
        cmocka_unit_test(injection_fifo_per_broker_and_api_with_delay),
        cmocka_unit_test(produce_quota_answers_at_once_and_mutes_the_channel),
        cmocka_unit_test(crash_closes_the_brokers_connections_and_refuses_new_ones),
        cmocka_unit_test(responses_small_then_large_then_small_reuse_one_buffer),
        cmocka_unit_test(metadata_auto_creates_with_leader_not_available_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
