/*
 * test_handlers.c — the APIs over the wire: the transaction coordinator
 * (FindCoordinator, InitProducerId fencing, AddPartitionsToTxn, EndTxn,
 * CONCURRENT_TRANSACTIONS, timeout abort), read_committed through
 * ListOffsets and Fetch (last stable offset, aborted transactions), Fetch
 * honouring the high watermark and long-polling, and idempotent
 * InitProducerId.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "bm_testutil.h"
#include "kp_record_batch.h"

#define MS 1000

typedef struct txn_env {
    bmt_world *w;
    bmt_client *coord;   /* connection to the coordinator */
    bmt_client *leader;  /* connection to t-0's leader */
    int32_t corr;
} txn_env;

static int32_t find_coordinator(bmt_world *w, const char *id) {
    bmt_client *cl = bmt_client_open(w, 0);
    kp_find_coordinator_request fc = { kp_slice_str(id), KP_COORDINATOR_TRANSACTION };
    bmt_send(cl, KP_API_FIND_COORDINATOR, 2, 1, &fc, 0);
    kp_response r;
    assert_true(bmt_recv(cl, KP_API_FIND_COORDINATOR, 2, &r));
    assert_int_equal(r.body.find_coordinator.error_code, 0);
    int32_t node = r.body.find_coordinator.node_id;
    assert_int_equal(r.body.find_coordinator.port, 9092 + node);
    /* groups are not coordinated by the mock */
    kp_find_coordinator_request fg = { kp_slice_str("g"), KP_COORDINATOR_GROUP };
    bmt_send(cl, KP_API_FIND_COORDINATOR, 2, 2, &fg, 0);
    assert_true(bmt_recv(cl, KP_API_FIND_COORDINATOR, 2, &r));
    assert_int_equal(r.body.find_coordinator.error_code, KP_ERR_COORDINATOR_NOT_AVAILABLE);
    bmt_client_free(cl);
    return node;
}

static void txn_setup(txn_env *e) {
    memset(e, 0, sizeof *e);
    e->w = bmt_new(NULL);
    assert_int_equal(bm_cluster_create_topic(e->w->c, "t", 1, 3), KP_ERR_NONE);
    e->coord = bmt_client_open(e->w, find_coordinator(e->w, "txn-1"));
    e->leader = bmt_client_open(e->w, 0);
    e->corr = 100;
}

static void txn_teardown(txn_env *e) {
    bmt_client_free(e->coord);
    bmt_client_free(e->leader);
    bmt_free(e->w);
}

static kp_err init_pid(txn_env *e, bmt_client *cl, const char *id, int32_t timeout_ms,
                       int64_t *pid, int16_t *epoch) {
    kp_init_producer_id_request r = { id ? kp_slice_str(id) : KP_SLICE_NULL, timeout_ms };
    bmt_send(cl, KP_API_INIT_PRODUCER_ID, 1, e->corr++, &r, 0);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_INIT_PRODUCER_ID, 1, &resp));
    if (pid)
        *pid = resp.body.init_producer_id.producer_id;
    if (epoch)
        *epoch = resp.body.init_producer_id.producer_epoch;
    return (kp_err)resp.body.init_producer_id.error_code;
}

static kp_err add_partition(txn_env *e, const char *id, int64_t pid, int16_t epoch, const char *topic,
                            int32_t part) {
    int32_t parts[1] = { part };
    kp_add_partitions_to_txn_topic t = { kp_slice_str(topic), 1, parts };
    kp_add_partitions_to_txn_request r = { kp_slice_str(id), pid, epoch, 1, &t };
    bmt_send(e->coord, KP_API_ADD_PARTITIONS_TO_TXN, 1, e->corr++, &r, 0);
    kp_response resp;
    assert_true(bmt_recv(e->coord, KP_API_ADD_PARTITIONS_TO_TXN, 1, &resp));
    assert_int_equal(resp.body.add_partitions_to_txn.topic_count, 1);
    return (kp_err)resp.body.add_partitions_to_txn.topics[0].partitions[0].error_code;
}

static kp_err end_txn(txn_env *e, const char *id, int64_t pid, int16_t epoch, bool commit) {
    kp_end_txn_request r = { kp_slice_str(id), pid, epoch, commit };
    bmt_send(e->coord, KP_API_END_TXN, 1, e->corr++, &r, 0);
    kp_response resp;
    assert_true(bmt_recv(e->coord, KP_API_END_TXN, 1, &resp));
    return (kp_err)resp.body.end_txn.error_code;
}

static kp_err produce(txn_env *e, const char *txn_id, int64_t pid, int16_t epoch, int32_t seq,
                      int32_t count, bool txn, int64_t *base) {
    static uint8_t batch[8192];
    size_t n = bmt_batch(batch, sizeof batch, pid, epoch, seq, count, txn, 4);
    kp_produce_partition_data pd = { 0, { batch, (int32_t)n } };
    kp_produce_topic_data td = { kp_slice_str("t"), 1, &pd };
    kp_produce_request pr = { txn_id ? kp_slice_str(txn_id) : KP_SLICE_NULL, 1, 30000, 1, &td };
    bmt_send(e->leader, KP_API_PRODUCE, 7, e->corr++, &pr, 0);
    kp_response resp;
    assert_true(bmt_recv(e->leader, KP_API_PRODUCE, 7, &resp));
    if (base)
        *base = resp.body.produce.topics[0].partitions[0].base_offset;
    return (kp_err)resp.body.produce.topics[0].partitions[0].error_code;
}

typedef struct fetched {
    kp_err err;
    int64_t hw, lso;
    int32_t bytes;
    int32_t naborted;
    int64_t aborted_first;
    int32_t nbatches;
    int64_t last_offset;
} fetched;

static fetched fetch(bmt_client *cl, int32_t *corr, int64_t offset, int8_t isolation) {
    kp_fetch_partition fp = { 0, -1, offset, -1, 1 << 20 };
    kp_fetch_topic ft = { kp_slice_str("t"), 1, &fp };
    kp_fetch_request fr;
    memset(&fr, 0, sizeof fr);
    fr.replica_id = -1;
    fr.max_wait_ms = 0;
    fr.min_bytes = 1;
    fr.max_bytes = 1 << 24;
    fr.isolation_level = isolation;
    fr.session_epoch = -1;
    fr.topic_count = 1;
    fr.topics = &ft;
    bmt_send(cl, KP_API_FETCH, 10, (*corr)++, &fr, 0);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_FETCH, 10, &resp));
    const kp_fetch_partition_response *p = &resp.body.fetch.topics[0].partitions[0];
    fetched f;
    memset(&f, 0, sizeof f);
    f.err = (kp_err)p->error_code;
    f.hw = p->high_watermark;
    f.lso = p->last_stable_offset;
    f.bytes = p->records.len;
    f.naborted = p->aborted_transaction_count;
    f.aborted_first = f.naborted > 0 ? p->aborted_transactions[0].first_offset : -1;
    f.last_offset = -1;
    if (p->records.len > 0) {
        kp_records_walk rw;
        kp_records_walk_init(&rw, p->records.ptr, (size_t)p->records.len);
        kp_batch_header h;
        kp_slice b;
        while (kp_records_next_batch(&rw, &h, &b)) {
            f.nbatches++;
            f.last_offset = kp_batch_last_offset(&h);
        }
        assert_int_equal(rw.err, KP_ERR_NONE);
    }
    return f;
}

/* ListOffsets for t/0: the offset, with the error code in *err. */
static int64_t list_offset_err(bmt_client *cl, int32_t *corr, int64_t ts, int8_t isolation,
                               kp_err *err) {
    kp_list_offsets_partition lp = { 0, ts };
    kp_list_offsets_topic lt = { kp_slice_str("t"), 1, &lp };
    kp_list_offsets_request lr = { -1, isolation, 1, &lt };
    bmt_send(cl, KP_API_LIST_OFFSETS, 2, (*corr)++, &lr, 0);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_LIST_OFFSETS, 2, &resp));
    *err = (kp_err)resp.body.list_offsets.topics[0].partitions[0].error_code;
    return resp.body.list_offsets.topics[0].partitions[0].offset;
}

static int64_t list_offset(bmt_client *cl, int32_t *corr, int64_t ts, int8_t isolation) {
    kp_err err;
    int64_t off = list_offset_err(cl, corr, ts, isolation, &err);
    assert_int_equal(err, KP_ERR_NONE);
    return off;
}

/* ---- tests --------------------------------------------------------- */

static void init_producer_id_fences_the_older_epoch(void **state) {
    (void)state;
    txn_env e;
    txn_setup(&e);
    int64_t pid, pid2;
    int16_t epoch, epoch2;
    assert_int_equal(init_pid(&e, e.coord, "txn-1", 60000, &pid, &epoch), KP_ERR_NONE);
    assert_int_equal(epoch, 0);
    assert_int_equal(add_partition(&e, "txn-1", pid, epoch, "t", 0), KP_ERR_NONE);
    assert_int_equal(produce(&e, "txn-1", pid, epoch, 0, 2, true, NULL), KP_ERR_NONE);
    /* a second instance with the same transactional.id: the ongoing
     * transaction is aborted with a bumped epoch, the new one retries */
    assert_int_equal(init_pid(&e, e.coord, "txn-1", 60000, NULL, NULL), KP_ERR_CONCURRENT_TRANSACTIONS);
    assert_int_equal(init_pid(&e, e.coord, "txn-1", 60000, NULL, NULL), KP_ERR_CONCURRENT_TRANSACTIONS);
    bmt_advance(e.w, 3 * MS);
    assert_int_equal(init_pid(&e, e.coord, "txn-1", 60000, &pid2, &epoch2), KP_ERR_NONE);
    assert_int_equal(pid2, pid);
    assert_int_equal(epoch2, 2);
    /* the zombie is fenced everywhere */
    assert_int_equal(add_partition(&e, "txn-1", pid, epoch, "t", 0), KP_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(end_txn(&e, "txn-1", pid, epoch, true), KP_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce(&e, "txn-1", pid, epoch, 2, 1, true, NULL), KP_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(add_partition(&e, "txn-1", pid + 1, epoch2, "t", 0),
                     KP_ERR_INVALID_PRODUCER_ID_MAPPING);
    /* the log: two aborted records and the abort marker */
    bmt_log log;
    bmt_read(e.w, "t", 0, &log);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.txn_state[0], BM_TXN_ABORTED);
    assert_int_equal(log.txn_state[1], BM_TXN_ABORTED);
    assert_true(log.control[2]);
    txn_teardown(&e);
}

static void commit_makes_records_visible_to_read_committed(void **state) {
    (void)state;
    txn_env e;
    txn_setup(&e);
    int64_t pid;
    int16_t epoch;
    bmt_client *reader = bmt_client_open(e.w, 0);
    int32_t rc = 1;
    assert_int_equal(init_pid(&e, e.coord, "txn-1", 60000, &pid, &epoch), KP_ERR_NONE);
    assert_int_equal(add_partition(&e, "txn-1", pid, epoch, "t", 0), KP_ERR_NONE);
    assert_int_equal(produce(&e, "txn-1", pid, epoch, 0, 3, true, NULL), KP_ERR_NONE);
    bmt_advance(e.w, 5 * MS);
    fetched f = fetch(reader, &rc, 0, KP_ISOLATION_READ_COMMITTED);
    assert_int_equal(f.err, 0);
    assert_int_equal(f.hw, 3);
    assert_int_equal(f.lso, 0);
    assert_int_equal(f.bytes, 0); /* nothing stable yet */
    f = fetch(reader, &rc, 0, KP_ISOLATION_READ_UNCOMMITTED);
    assert_int_equal(f.nbatches, 1);
    assert_int_equal(f.naborted, -1);
    assert_int_equal(list_offset(reader, &rc, KP_LIST_OFFSETS_LATEST, KP_ISOLATION_READ_COMMITTED), 0);
    assert_int_equal(list_offset(reader, &rc, KP_LIST_OFFSETS_LATEST, KP_ISOLATION_READ_UNCOMMITTED), 3);

    assert_int_equal(end_txn(&e, "txn-1", pid, epoch, true), KP_ERR_NONE);
    /* markers not written yet */
    assert_int_equal(add_partition(&e, "txn-1", pid, epoch, "t", 0), KP_ERR_CONCURRENT_TRANSACTIONS);
    assert_int_equal(end_txn(&e, "txn-1", pid, epoch, true), KP_ERR_CONCURRENT_TRANSACTIONS);
    assert_int_equal(end_txn(&e, "txn-1", pid, epoch, false), KP_ERR_INVALID_TXN_STATE);
    bmt_advance(e.w, 10 * MS);
    assert_int_equal(end_txn(&e, "txn-1", pid, epoch, true), KP_ERR_NONE); /* retry after completion */
    f = fetch(reader, &rc, 0, KP_ISOLATION_READ_COMMITTED);
    assert_int_equal(f.lso, 4);
    assert_int_equal(f.nbatches, 2); /* data + commit marker */
    assert_int_equal(f.last_offset, 3);
    assert_int_equal(f.naborted, 0);

    /* a second transaction, aborted: read_committed gets the range */
    assert_int_equal(add_partition(&e, "txn-1", pid, epoch, "t", 0), KP_ERR_NONE);
    assert_int_equal(produce(&e, "txn-1", pid, epoch, 3, 2, true, NULL), KP_ERR_NONE);
    assert_int_equal(end_txn(&e, "txn-1", pid, epoch, false), KP_ERR_NONE);
    bmt_advance(e.w, 10 * MS);
    f = fetch(reader, &rc, 4, KP_ISOLATION_READ_COMMITTED);
    assert_int_equal(f.lso, 7);
    assert_int_equal(f.naborted, 1);
    assert_int_equal(f.aborted_first, 4);
    bmt_log log;
    bmt_read(e.w, "t", 0, &log);
    assert_int_equal(log.n, 7);
    assert_int_equal(log.txn_state[0], BM_TXN_COMMITTED);
    assert_int_equal(log.txn_state[4], BM_TXN_ABORTED);
    bmt_client_free(reader);
    txn_teardown(&e);
}

static void coordinator_aborts_a_transaction_past_its_timeout(void **state) {
    (void)state;
    txn_env e;
    txn_setup(&e);
    int64_t pid;
    int16_t epoch;
    assert_int_equal(init_pid(&e, e.coord, "txn-1", 1000, &pid, &epoch), KP_ERR_NONE);
    assert_int_equal(add_partition(&e, "txn-1", pid, epoch, "t", 0), KP_ERR_NONE);
    assert_int_equal(produce(&e, "txn-1", pid, epoch, 0, 1, true, NULL), KP_ERR_NONE);
    bmt_advance(e.w, 999 * MS);
    assert_int_equal(bmt_count(e.w, BM_EV_TXN_MARKER), 0);
    bmt_advance(e.w, 10 * MS);
    assert_int_equal(bmt_count(e.w, BM_EV_TXN_MARKER), 1);
    assert_int_equal(end_txn(&e, "txn-1", pid, epoch, true), KP_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce(&e, "txn-1", pid, epoch, 1, 1, true, NULL), KP_ERR_INVALID_PRODUCER_EPOCH);
    txn_teardown(&e);
}

static void coordinator_request_errors(void **state) {
    (void)state;
    txn_env e;
    txn_setup(&e);
    int64_t pid;
    int16_t epoch;
    assert_int_equal(init_pid(&e, e.coord, "txn-1", 900001, NULL, NULL),
                     KP_ERR_INVALID_TRANSACTION_TIMEOUT);
    assert_int_equal(init_pid(&e, e.coord, "txn-1", 0, NULL, NULL), KP_ERR_INVALID_TRANSACTION_TIMEOUT);
    int32_t node = find_coordinator(e.w, "txn-1");
    bmt_client *wrong = bmt_client_open(e.w, (node + 1) % 3);
    assert_int_equal(init_pid(&e, wrong, "txn-1", 60000, NULL, NULL), KP_ERR_NOT_COORDINATOR);
    bmt_client_free(wrong);
    assert_int_equal(init_pid(&e, e.coord, "txn-1", 60000, &pid, &epoch), KP_ERR_NONE);
    assert_int_equal(end_txn(&e, "txn-1", pid, epoch, true), KP_ERR_INVALID_TXN_STATE); /* Empty */
    /* one unknown partition: it fails, the others are not attempted */
    int32_t parts[2] = { 0, 5 };
    kp_add_partitions_to_txn_topic t = { kp_slice_str("t"), 2, parts };
    kp_add_partitions_to_txn_request r = { kp_slice_str("txn-1"), pid, epoch, 1, &t };
    bmt_send(e.coord, KP_API_ADD_PARTITIONS_TO_TXN, 1, 1, &r, 0);
    kp_response resp;
    assert_true(bmt_recv(e.coord, KP_API_ADD_PARTITIONS_TO_TXN, 1, &resp));
    assert_int_equal(resp.body.add_partitions_to_txn.topics[0].partitions[0].error_code,
                     KP_ERR_OPERATION_NOT_ATTEMPTED);
    assert_int_equal(resp.body.add_partitions_to_txn.topics[0].partitions[1].error_code,
                     KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    /* idempotent InitProducerId: any broker, fresh ids */
    int64_t a, b;
    assert_int_equal(init_pid(&e, e.leader, NULL, INT32_MAX, &a, &epoch), KP_ERR_NONE);
    assert_int_equal(init_pid(&e, e.leader, NULL, INT32_MAX, &b, &epoch), KP_ERR_NONE);
    assert_int_equal(b, a + 1);
    assert_int_equal(epoch, 0);
    txn_teardown(&e);
}

/* The produce handler finds each topic once and its partitions by index
 * (the acks=all wait keeps them): in one request, a partition of the
 * topic this broker leads is written and acknowledged once replicated,
 * one it does not lead, one past the topic's end, a negative one and one
 * of an unknown topic each get their own error. */
static void produce_request_partitions_found_per_topic(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    assert_int_equal(bm_cluster_create_topic(w->c, "t", 2, 3), KP_ERR_NONE);
    bmt_client *cl = bmt_client_open(w, 0); /* leads t-0, not t-1 */
    static uint8_t batch[8192];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 3, false, 4);
    kp_produce_partition_data pt[4] = {
        { 0, { batch, (int32_t)n } }, { 1, { batch, (int32_t)n } },
        { 2, { batch, (int32_t)n } }, { -1, { batch, (int32_t)n } },
    };
    kp_produce_partition_data pn = { 0, { batch, (int32_t)n } };
    kp_produce_topic_data td[2] = { { kp_slice_str("t"), 4, pt }, { kp_slice_str("nope"), 1, &pn } };
    kp_produce_request pr = { KP_SLICE_NULL, -1, 30000, 2, td };
    bmt_send(cl, KP_API_PRODUCE, 7, 1, &pr, 0);
    kp_response resp;
    assert_false(bmt_recv(cl, KP_API_PRODUCE, 7, &resp)); /* t-0 waits for its followers */
    bmt_advance(w, 10 * MS);
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    const kp_produce_topic_response *rt = resp.body.produce.topics;
    assert_int_equal(resp.body.produce.topic_count, 2);
    assert_int_equal(rt[0].partitions[0].error_code, KP_ERR_NONE);
    assert_int_equal(rt[0].partitions[0].base_offset, 0);
    assert_int_equal(rt[0].partitions[1].error_code, KP_ERR_NOT_LEADER_FOR_PARTITION);
    assert_int_equal(rt[0].partitions[2].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(rt[0].partitions[3].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(rt[1].partitions[0].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    bm_partition_info info;
    assert_int_equal(bm_cluster_partition_info(w->c, "t", 0, &info), KP_ERR_NONE);
    assert_int_equal(info.high_watermark, 3); /* acks=all: answered once replicated */
    bmt_client_free(cl);
    bmt_free(w);
}

/* A Produce response names its topics in request order, each as the
 * broker reads the name (up to a NUL byte in it), with its partitions'
 * results in request order, however many topics there are (the handler
 * keeps a few on the stack, more in the request's arena) and whatever the
 * connection's previous request was (the wait's block is reused). */
static void produce_response_echoes_every_topic_in_order(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    assert_int_equal(bm_cluster_create_topic(w->c, "t", 2, 3), KP_ERR_NONE);
    assert_int_equal(bm_cluster_create_topic(w->c, "u", 1, 1), KP_ERR_NONE);
    bmt_client *cl = bmt_client_open(w, 0); /* leads t-0 and u-0, not t-1 */
    static uint8_t batch[8192];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 2, false, 4);
    kp_slice rec = { batch, (int32_t)n };
    kp_produce_partition_data t01[2] = { { 0, rec }, { 1, rec } };
    kp_produce_partition_data one[1] = { { 0, rec } };
    kp_produce_partition_data none[1] = { { 0, rec } };
    static const uint8_t nul_name[] = { 'u', 0, 'x' };
    kp_produce_topic_data td[7] = {
        { kp_slice_str("nope1"), 1, none },
        { kp_slice_str("t"), 2, t01 },
        { kp_slice_str("nope2"), 1, none },
        { kp_slice_str("u"), 1, one },
        { kp_slice_str("nope3"), 1, none },
        { { nul_name, 3 }, 1, one }, /* read as "u" */
        { kp_slice_str("nope4"), 0, NULL },
    };
    for (int round = 0; round < 2; round++) {
        int32_t nt = round == 0 ? 7 : 1;
        kp_produce_request pr = { KP_SLICE_NULL, 1, 30000, nt, round == 0 ? td : &td[3] };
        bmt_send(cl, KP_API_PRODUCE, 7, 1 + round, &pr, 0);
        kp_response resp;
        assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp)); /* acks=1: at once */
        assert_int_equal(resp.hdr.correlation_id, 1 + round);
        const kp_produce_response *r = &resp.body.produce;
        assert_int_equal(r->topic_count, nt);
        for (int32_t t = 0; t < nt; t++) {
            const kp_produce_topic_data *q = round == 0 ? &td[t] : &td[3];
            const char *want = q->topic.ptr == nul_name ? "u" : (const char *)q->topic.ptr;
            assert_int_equal(r->topics[t].topic.len, (int32_t)strlen(want));
            assert_memory_equal(r->topics[t].topic.ptr, want, strlen(want));
            assert_int_equal(r->topics[t].partition_count, q->partition_count);
            for (int32_t k = 0; k < q->partition_count; k++)
                assert_int_equal(r->topics[t].partitions[k].partition, q->partitions[k].partition);
        }
        if (round == 0) {
            const kp_produce_topic_response *rt = r->topics;
            assert_int_equal(rt[0].partitions[0].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
            assert_int_equal(rt[1].partitions[0].error_code, KP_ERR_NONE);
            assert_int_equal(rt[1].partitions[0].base_offset, 0);
            assert_int_equal(rt[1].partitions[1].error_code, KP_ERR_NOT_LEADER_FOR_PARTITION);
            assert_int_equal(rt[1].partitions[1].base_offset, -1);
            assert_int_equal(rt[3].partitions[0].error_code, KP_ERR_NONE);
            assert_int_equal(rt[3].partitions[0].base_offset, 0);
            assert_int_equal(rt[5].partitions[0].error_code, KP_ERR_NONE);
            assert_int_equal(rt[5].partitions[0].base_offset, 2);
            assert_int_equal(rt[5].partitions[0].log_start_offset, 0);
        } else {
            assert_int_equal(r->topics[0].partitions[0].error_code, KP_ERR_NONE);
            assert_int_equal(r->topics[0].partitions[0].base_offset, 4);
        }
    }
    bmt_client_free(cl);
    bmt_free(w);
}

/* The Produce handler finds a topic by the request's name bytes (up to a
 * NUL): a name that is a prefix of a topic's, or that a topic's is a
 * prefix of, is no topic; the exact name is, also with a NUL and more
 * bytes after it. */
static void produce_topic_lookup_takes_the_whole_name_only(void **state) {
    (void)state;
    bmt_world *w = bmt_new(NULL);
    assert_int_equal(bm_cluster_create_topic(w->c, "ab", 1, 1), KP_ERR_NONE);
    bmt_client *cl = bmt_client_open(w, 0);
    static uint8_t batch[8192];
    size_t n = bmt_batch(batch, sizeof batch, -1, -1, -1, 2, false, 4);
    kp_slice rec = { batch, (int32_t)n };
    kp_produce_partition_data one[1] = { { 0, rec } };
    static const uint8_t nul_name[] = { 'a', 'b', 0, 'c' };
    kp_produce_topic_data td[4] = {
        { kp_slice_str("a"), 1, one },
        { kp_slice_str("abc"), 1, one },
        { kp_slice_str("ab"), 1, one },
        { { nul_name, 4 }, 1, one },
    };
    kp_produce_request pr = { KP_SLICE_NULL, 1, 30000, 4, td };
    bmt_send(cl, KP_API_PRODUCE, 7, 1, &pr, 0);
    kp_response resp;
    assert_true(bmt_recv(cl, KP_API_PRODUCE, 7, &resp));
    const kp_produce_response *r = &resp.body.produce;
    assert_int_equal(r->topic_count, 4);
    assert_int_equal(r->topics[0].partitions[0].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(r->topics[1].partitions[0].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(r->topics[2].partitions[0].error_code, KP_ERR_NONE);
    assert_int_equal(r->topics[2].partitions[0].base_offset, 0);
    assert_int_equal(r->topics[3].partitions[0].error_code, KP_ERR_NONE);
    assert_int_equal(r->topics[3].partitions[0].base_offset, 2);
    assert_int_equal(r->topics[3].topic.len, 2);
    bmt_client_free(cl);
    bmt_free(w);
}

static void digest_only(void *ctx, kp_slice key, kp_slice value, bm_digest *out) {
    (void)ctx;
    out->w[0] = (uint32_t)key.len;
    out->w[1] = (uint32_t)value.len;
    out->w[2] = 0xd16e57;
}

typedef struct digest_scan {
    int n, ndigests;
    int txn_state[8];
    bool control[8];
} digest_scan;

static bool digest_scan_cb(void *ctx, const bm_record_view *v) {
    digest_scan *d = ctx;
    assert_true(d->n < 8);
    d->txn_state[d->n] = v->txn_state;
    d->control[d->n] = v->control;
    if (v->digest) {
        assert_int_equal(v->digest->w[2], 0xd16e57);
        assert_int_equal(v->key.len, -1);
        d->ndigests++;
    }
    d->n++;
    return true;
}

/* A cluster with a digester (a simulation's): the transaction's records
 * keep digests and their read_committed state, the marker keeps its
 * bytes, ListOffsets works, and Fetch has no bytes to serve. */
static void digested_logs_serve_offsets_and_txn_state_but_no_fetch(void **state) {
    (void)state;
    txn_env e;
    txn_setup(&e);
    bm_cluster_set_digester(e.w->c, digest_only, NULL);
    int64_t pid;
    int16_t epoch;
    int32_t rc = 1;
    bmt_client *reader = bmt_client_open(e.w, 0);
    assert_int_equal(init_pid(&e, e.coord, "txn-1", 60000, &pid, &epoch), KP_ERR_NONE);
    assert_int_equal(add_partition(&e, "txn-1", pid, epoch, "t", 0), KP_ERR_NONE);
    assert_int_equal(produce(&e, "txn-1", pid, epoch, 0, 3, true, NULL), KP_ERR_NONE);
    assert_int_equal(end_txn(&e, "txn-1", pid, epoch, true), KP_ERR_NONE);
    bmt_advance(e.w, 10 * MS);
    assert_int_equal(bm_cluster_txn_markers_pending(e.w->c), 0);
    digest_scan d = { 0 };
    assert_int_equal(bm_cluster_read_log(e.w->c, "t", 0, digest_scan_cb, &d), KP_ERR_NONE);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.ndigests, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(d.txn_state[i], BM_TXN_COMMITTED);
    assert_true(d.control[3]);
    assert_int_equal(list_offset(reader, &rc, KP_LIST_OFFSETS_LATEST, KP_ISOLATION_READ_COMMITTED), 4);
    fetched f = fetch(reader, &rc, 0, KP_ISOLATION_READ_UNCOMMITTED);
    assert_int_equal(f.err, KP_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(f.bytes, -1);
    bmt_client_free(reader);
    txn_teardown(&e);
}

static void count_settled(void *ctx, const bm_settled_batch *b) {
    *(int32_t *)ctx += b->count;
}

/* With a settle hook too, settled batches are folded out of the logs (a
 * simulation's memory): ListOffsets by timestamp still answers exactly
 * when the first batch at or after the timestamp is one still in the log,
 * and KAFKA_STORAGE_ERROR (like Fetch) when it could be a folded one;
 * EARLIEST and LATEST are unchanged. */
static void list_offsets_by_time_over_a_folded_prefix(void **state) {
    (void)state;
    txn_env e;
    txn_setup(&e);
    int32_t settled = 0;
    bm_cluster_set_digester(e.w->c, digest_only, NULL);
    bm_cluster_set_settler(e.w->c, count_settled, &settled);
    int32_t rc = 1;
    bmt_client *reader = bmt_client_open(e.w, 0);
    /* records stamped 1000, 1001, ... in each batch (bmt_batch) */
    assert_int_equal(produce(&e, NULL, -1, -1, -1, 3, false, NULL), KP_ERR_NONE);
    bmt_advance(e.w, 10 * MS);
    assert_int_equal(settled, 3); /* offsets 0..2, max timestamp 1002: folded */
    assert_int_equal(produce(&e, NULL, -1, -1, -1, 5, false, NULL), KP_ERR_NONE);
    bmt_advance(e.w, 10 * MS);
    assert_int_equal(settled, 8);
    /* broker 2 down: the third batch gets below the HW but does not settle */
    assert_int_equal(bm_cluster_crash_broker(e.w->c, 2), KP_ERR_NONE);
    assert_int_equal(produce(&e, NULL, -1, -1, -1, 6, false, NULL), KP_ERR_NONE);
    bmt_advance(e.w, 10 * MS);
    assert_int_equal(settled, 8);
    kp_err err;
    assert_int_equal(list_offset(reader, &rc, KP_LIST_OFFSETS_LATEST, 0), 14);
    assert_int_equal(list_offset(reader, &rc, KP_LIST_OFFSETS_EARLIEST, 0), 0);
    /* 1005: only the third batch (max 1005) holds it */
    int64_t off = list_offset_err(reader, &rc, 1005, 0, &err);
    assert_int_equal(err, KP_ERR_NONE);
    assert_int_equal(off, 8);
    /* 1004 and below: the first batch holding it is folded */
    list_offset_err(reader, &rc, 1004, 0, &err);
    assert_int_equal(err, KP_ERR_KAFKA_STORAGE_ERROR);
    list_offset_err(reader, &rc, 1000, 0, &err);
    assert_int_equal(err, KP_ERR_KAFKA_STORAGE_ERROR);
    /* after the third settles too: past every timestamp, no offset */
    assert_int_equal(bm_cluster_restart_broker(e.w->c, 2), KP_ERR_NONE);
    bmt_advance(e.w, 20 * MS);
    assert_int_equal(settled, 14);
    off = list_offset_err(reader, &rc, 1006, 0, &err);
    assert_int_equal(err, KP_ERR_NONE);
    assert_int_equal(off, -1);
    list_offset_err(reader, &rc, 1005, 0, &err);
    assert_int_equal(err, KP_ERR_KAFKA_STORAGE_ERROR);
    bmt_client_free(reader);
    txn_teardown(&e);
}

static void fetch_honours_the_high_watermark_and_long_polls(void **state) {
    (void)state;
    txn_env e;
    txn_setup(&e);
    int32_t rc = 1;
    bmt_client *reader = bmt_client_open(e.w, 0);
    assert_int_equal(produce(&e, NULL, -1, -1, -1, 2, false, NULL), KP_ERR_NONE);
    fetched f = fetch(reader, &rc, 0, KP_ISOLATION_READ_UNCOMMITTED);
    assert_int_equal(f.hw, 0);
    assert_int_equal(f.bytes, 0); /* not replicated: invisible */
    bmt_advance(e.w, 5 * MS);
    f = fetch(reader, &rc, 0, KP_ISOLATION_READ_UNCOMMITTED);
    assert_int_equal(f.nbatches, 1);
    assert_int_equal(f.last_offset, 1);
    f = fetch(reader, &rc, 1, KP_ISOLATION_READ_UNCOMMITTED); /* inside the batch: whole batch */
    assert_int_equal(f.nbatches, 1);
    f = fetch(reader, &rc, 3, KP_ISOLATION_READ_UNCOMMITTED);
    assert_int_equal(f.err, KP_ERR_OFFSET_OUT_OF_RANGE);
    bmt_client *follower = bmt_client_open(e.w, 1);
    f = fetch(follower, &rc, 0, KP_ISOLATION_READ_UNCOMMITTED);
    assert_int_equal(f.err, KP_ERR_NOT_LEADER_FOR_PARTITION);
    bmt_client_free(follower);

    /* long poll: min_bytes 1, max_wait 500 ms, completes when data comes */
    kp_fetch_partition fp = { 0, -1, 2, -1, 1 << 20 };
    kp_fetch_topic ft = { kp_slice_str("t"), 1, &fp };
    kp_fetch_request fr;
    memset(&fr, 0, sizeof fr);
    fr.replica_id = -1;
    fr.max_wait_ms = 500;
    fr.min_bytes = 1;
    fr.max_bytes = 1 << 20;
    fr.session_epoch = -1;
    fr.topic_count = 1;
    fr.topics = &ft;
    bmt_send(reader, KP_API_FETCH, 10, 77, &fr, 0);
    bmt_advance(e.w, 100 * MS);
    assert_int_equal(bmt_pending_frames(reader), 0);
    assert_int_equal(produce(&e, NULL, -1, -1, -1, 1, false, NULL), KP_ERR_NONE);
    bmt_advance(e.w, 5 * MS);
    kp_response resp;
    assert_true(bmt_recv(reader, KP_API_FETCH, 10, &resp));
    assert_int_equal(resp.hdr.correlation_id, 77);
    assert_true(resp.body.fetch.topics[0].partitions[0].records.len > 0);
    /* and expires empty at max_wait */
    fp.fetch_offset = 3;
    bmt_send(reader, KP_API_FETCH, 10, 78, &fr, 0);
    bmt_advance(e.w, 499 * MS);
    assert_int_equal(bmt_pending_frames(reader), 0);
    bmt_advance(e.w, 1 * MS);
    assert_true(bmt_recv(reader, KP_API_FETCH, 10, &resp));
    assert_int_equal(resp.body.fetch.topics[0].partitions[0].records.len, 0);

    /* ListOffsets after retention */
    assert_int_equal(bm_cluster_delete_records(e.w->c, "t", 0, 2), KP_ERR_NONE);
    assert_int_equal(list_offset(reader, &rc, KP_LIST_OFFSETS_EARLIEST, 0), 2);
    assert_int_equal(list_offset(reader, &rc, KP_LIST_OFFSETS_LATEST, 0), 3);
    f = fetch(reader, &rc, 0, KP_ISOLATION_READ_UNCOMMITTED);
    assert_int_equal(f.err, KP_ERR_OFFSET_OUT_OF_RANGE);
    bmt_client_free(reader);
    txn_teardown(&e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_producer_id_fences_the_older_epoch),
        cmocka_unit_test(commit_makes_records_visible_to_read_committed),
        cmocka_unit_test(coordinator_aborts_a_transaction_past_its_timeout),
        cmocka_unit_test(coordinator_request_errors),
        cmocka_unit_test(produce_request_partitions_found_per_topic),
        cmocka_unit_test(produce_response_echoes_every_topic_in_order),
        cmocka_unit_test(produce_topic_lookup_takes_the_whole_name_only),
        cmocka_unit_test(fetch_honours_the_high_watermark_and_long_polls),
        cmocka_unit_test(digested_logs_serve_offsets_and_txn_state_but_no_fetch),
        cmocka_unit_test(list_offsets_by_time_over_a_folded_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
