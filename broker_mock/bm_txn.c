/*
 * bm_txn.c — the transaction coordinator of broker_mock
 * (TransactionCoordinator / TransactionStateManager of Kafka 2.1, reduced
 * to what a producer can observe).
 *
 * One bm_txn per transactional.id, in creation order. States and the one
 * setter (bm_txn_set_state) that logs "OLD -> NEW":
 *
 *   Empty --AddPartitions--> Ongoing --EndTxn(commit)--> PrepareCommit --markers--> CompleteCommit
 *                                    --EndTxn(abort) / timeout / InitPid--> PrepareAbort --markers--> CompleteAbort
 *   Complete* --AddPartitions--> Ongoing;  Empty/Complete* --InitPid--> Empty (epoch + 1)
 *
 * While Prepare* (markers not yet written), AddPartitionsToTxn,
 * InitProducerId and EndTxn answer CONCURRENT_TRANSACTIONS. The markers
 * are written `txn_marker_delay_us` after the prepare, one control batch
 * per partition of the transaction (a partition without a leader is
 * retried at every poll). A transaction older than its timeout is aborted
 * with its epoch bumped (abortTimedOutTransactions), which fences the
 * zombie. Which broker coordinates an id: partition
 * abs(javaHashCode(id)) % 50 of __transaction_state, led here by the first
 * live broker from (partition % N) on.
 *
 * Memory: ids are copied; partition lists are arrays owned by the bm_txn.
 */
#include "bm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BM_TXN_STATE_PARTITIONS 50 /* transaction.state.log.num.partitions */

const char *bm__txn_state_name(int s) {
    switch (s) {
    case BM_TXS_EMPTY: return "Empty";
    case BM_TXS_ONGOING: return "Ongoing";
    case BM_TXS_PREPARE_COMMIT: return "PrepareCommit";
    case BM_TXS_PREPARE_ABORT: return "PrepareAbort";
    case BM_TXS_COMPLETE_COMMIT: return "CompleteCommit";
    case BM_TXS_COMPLETE_ABORT: return "CompleteAbort";
    default: return "?";
    }
}

static void bm_txn_set_state(bm_cluster *c, bm_txn *t, int state) {
    char detail[96];
    snprintf(detail, sizeof detail, "%s: %s -> %s", t->id, bm__txn_state_name(t->state),
             bm__txn_state_name(state));
    t->state = state;
    kp_event ev = bm__ev(c, BM_EV_TXN_STATE, bm__txn_coordinator(c, t->id, strlen(t->id)));
    ev.producer_id = t->pid;
    ev.producer_epoch = t->epoch;
    ev.detail = detail;
    bm__emit(c, &ev);
}

int32_t bm__txn_coordinator(const bm_cluster *c, const char *id, size_t len) {
    int32_t h = 0;
    for (size_t i = 0; i < len; i++)
        h = (int32_t)((uint32_t)h * 31u + (uint8_t)id[i]);
    int32_t a = h == INT32_MIN ? 0 : (h < 0 ? -h : h);
    int32_t part = a % BM_TXN_STATE_PARTITIONS;
    for (int32_t k = 0; k < c->conf.brokers; k++) {
        int32_t b = (part + k) % c->conf.brokers;
        if (c->brokers[b].up)
            return b;
    }
    return -1;
}

static bm_txn *bm_txn_find(const bm_cluster *c, const char *id, size_t len) {
    for (size_t i = 0; i < c->ntxns; i++)
        if (strlen(c->txns[i].id) == len && memcmp(c->txns[i].id, id, len) == 0)
            return &c->txns[i];
    return NULL;
}

static void bm_pid_event(bm_cluster *c, int32_t broker, int64_t pid, int16_t epoch, const char *id) {
    kp_event ev = bm__ev(c, BM_EV_PID_ALLOC, broker);
    ev.producer_id = pid;
    ev.producer_epoch = epoch;
    ev.detail = id;
    bm__emit(c, &ev);
}

static void bm_txn_prepare(bm_cluster *c, bm_txn *t, bool commit) {
    for (size_t i = 0; i < t->nparts; i++)
        t->parts[i].marker_written = false;
    t->complete_at_us = bm__now(c) + c->conf.txn_marker_delay_us;
    bm_txn_set_state(c, t, commit ? BM_TXS_PREPARE_COMMIT : BM_TXS_PREPARE_ABORT);
    bm__wakeup(c);
}

/* TransactionCoordinator.handleInitProducerId */
kp_err bm__txn_init_pid(bm_cluster *c, int32_t broker, const char *id, size_t len,
                        int32_t timeout_ms, int64_t *pid, int16_t *epoch) {
    *pid = -1;
    *epoch = -1;
    if (!id) {
        *pid = c->next_pid++;
        *epoch = 0;
        bm_pid_event(c, broker, *pid, *epoch, NULL);
        return KP_ERR_NONE;
    }
    if (len == 0)
        return KP_ERR_INVALID_REQUEST;
    if (timeout_ms <= 0 || timeout_ms > c->conf.transaction_max_timeout_ms)
        return KP_ERR_INVALID_TRANSACTION_TIMEOUT;
    if (bm__txn_coordinator(c, id, len) != broker)
        return KP_ERR_NOT_COORDINATOR;
    bm_txn *t = bm_txn_find(c, id, len);
    if (!t) {
        void *arr = c->txns;
        if (!bm__grow(&arr, &c->captxns, c->ntxns + 1, sizeof(bm_txn)))
            return KP_ERR__NOMEM;
        c->txns = arr;
        t = &c->txns[c->ntxns];
        memset(t, 0, sizeof *t);
        t->id = malloc(len + 1);
        if (!t->id)
            return KP_ERR__NOMEM;
        c->ntxns++;
        memcpy(t->id, id, len);
        t->id[len] = 0;
        t->pid = c->next_pid++;
        t->epoch = 0;
        t->timeout_ms = timeout_ms;
        t->state = BM_TXS_EMPTY;
        bm_pid_event(c, broker, t->pid, t->epoch, t->id);
        *pid = t->pid;
        *epoch = t->epoch;
        return KP_ERR_NONE;
    }
    switch (t->state) {
    case BM_TXS_PREPARE_COMMIT:
    case BM_TXS_PREPARE_ABORT:
        return KP_ERR_CONCURRENT_TRANSACTIONS;
    case BM_TXS_ONGOING:
        /* Fence the current producer, abort its transaction; the new one
         * retries until the abort completed. */
        t->epoch++;
        bm_txn_prepare(c, t, false);
        return KP_ERR_CONCURRENT_TRANSACTIONS;
    default:
        break;
    }
    if (t->epoch >= INT16_MAX - 1) { /* TransactionMetadata.isProducerEpochExhausted */
        t->pid = c->next_pid++;
        t->epoch = 0;
    } else {
        t->epoch++;
    }
    t->timeout_ms = timeout_ms;
    t->nparts = 0;
    bm_txn_set_state(c, t, BM_TXS_EMPTY);
    bm_pid_event(c, broker, t->pid, t->epoch, t->id);
    *pid = t->pid;
    *epoch = t->epoch;
    return KP_ERR_NONE;
}

/* The checks AddPartitionsToTxn and EndTxn share. */
kp_err bm__txn_check(bm_cluster *c, const char *id, size_t len, int64_t pid, int16_t epoch,
                     bool older_only, bm_txn **out) {
    *out = NULL;
    if (!id || len == 0)
        return KP_ERR_INVALID_REQUEST;
    bm_txn *t = bm_txn_find(c, id, len);
    if (!t || t->pid != pid)
        return KP_ERR_INVALID_PRODUCER_ID_MAPPING;
    /* AddPartitionsToTxn wants the exact epoch; EndTxn only refuses an
     * older one (handleEndTransaction): older_only. */
    if (older_only ? epoch < t->epoch : epoch != t->epoch)
        return KP_ERR_INVALID_PRODUCER_EPOCH;
    *out = t;
    if (t->state == BM_TXS_PREPARE_COMMIT || t->state == BM_TXS_PREPARE_ABORT)
        return KP_ERR_CONCURRENT_TRANSACTIONS;
    return KP_ERR_NONE;
}

void bm__txn_add_partition(bm_cluster *c, bm_txn *t, int32_t topic, int32_t partition) {
    for (size_t i = 0; i < t->nparts; i++)
        if (t->parts[i].topic == topic && t->parts[i].partition == partition)
            goto added;
    void *arr = t->parts;
    if (!bm__grow(&arr, &t->capparts, t->nparts + 1, sizeof(bm_txn_part)))
        return;
    t->parts = arr;
    t->parts[t->nparts++] = (bm_txn_part){ topic, partition, false };
added:
    if (t->state != BM_TXS_ONGOING) {
        t->start_us = bm__now(c);
        bm_txn_set_state(c, t, BM_TXS_ONGOING);
        bm__wakeup(c);
    }
}

/* TransactionCoordinator.handleEndTransaction */
kp_err bm__txn_end(bm_cluster *c, const char *id, size_t len, int64_t pid, int16_t epoch,
                   bool commit) {
    bm_txn *t;
    kp_err e = bm__txn_check(c, id, len, pid, epoch, true, &t);
    if (e == KP_ERR_CONCURRENT_TRANSACTIONS) {
        bool same = t->state == (commit ? BM_TXS_PREPARE_COMMIT : BM_TXS_PREPARE_ABORT);
        return same ? KP_ERR_CONCURRENT_TRANSACTIONS : KP_ERR_INVALID_TXN_STATE;
    }
    if (e != KP_ERR_NONE)
        return e;
    switch (t->state) {
    case BM_TXS_ONGOING:
        bm_txn_prepare(c, t, commit);
        return KP_ERR_NONE;
    case BM_TXS_COMPLETE_COMMIT:
        return commit ? KP_ERR_NONE : KP_ERR_INVALID_TXN_STATE;
    case BM_TXS_COMPLETE_ABORT:
        return commit ? KP_ERR_INVALID_TXN_STATE : KP_ERR_NONE;
    default:
        return KP_ERR_INVALID_TXN_STATE;
    }
}

void bm__txn_poll(bm_cluster *c, kp_time_us *deadline) {
    kp_time_us now = bm__now(c);
    if (c->now > now)
        now = c->now;
    for (size_t i = 0; i < c->ntxns; i++) {
        bm_txn *t = &c->txns[i];
        if (t->state == BM_TXS_ONGOING) {
            kp_time_us due = t->start_us + (kp_time_us)t->timeout_ms * 1000;
            if (now >= due) {
                /* abortTimedOutTransactions: bump the epoch to fence. */
                if (t->epoch < INT16_MAX)
                    t->epoch++;
                bm_txn_prepare(c, t, false);
            } else {
                bm__min_deadline(deadline, due);
            }
        }
        if (t->state != BM_TXS_PREPARE_COMMIT && t->state != BM_TXS_PREPARE_ABORT)
            continue;
        if (now < t->complete_at_us) {
            bm__min_deadline(deadline, t->complete_at_us);
            continue;
        }
        bool commit = t->state == BM_TXS_PREPARE_COMMIT;
        bool all = true;
        for (size_t k = 0; k < t->nparts; k++) {
            bm_txn_part *tp = &t->parts[k];
            if (tp->marker_written)
                continue;
            bm_topic *top = &c->topics[tp->topic];
            if (tp->partition >= top->npart ||
                bm__write_marker(c, &top->parts[tp->partition], t->pid, t->epoch, commit))
                tp->marker_written = true;
            else
                all = false;
        }
        if (all) {
            t->nparts = 0;
            bm_txn_set_state(c, t, commit ? BM_TXS_COMPLETE_COMMIT : BM_TXS_COMPLETE_ABORT);
        } else {
            t->complete_at_us = now + c->conf.replica_fetch_interval_us;
            bm__min_deadline(deadline, t->complete_at_us);
        }
    }
}

int32_t bm_cluster_txn_markers_pending(const bm_cluster *c) {
    int32_t n = 0;
    for (size_t i = 0; i < c->ntxns; i++)
        if (c->txns[i].state == BM_TXS_PREPARE_COMMIT || c->txns[i].state == BM_TXS_PREPARE_ABORT)
            n++;
    return n;
}

void bm__txn_free(bm_cluster *c) {
    for (size_t i = 0; i < c->ntxns; i++) {
        free(c->txns[i].id);
        free(c->txns[i].parts);
    }
    free(c->txns);
    c->txns = NULL;
    c->ntxns = 0;
}
