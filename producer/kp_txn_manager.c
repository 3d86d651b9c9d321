/*
 * kp_txn_manager.c — TransactionManager of kafka-clients 2.1.1; see
 * kp_txn_manager.h. Sections: state · producer id · sequences · in-flight
 * batches · unresolved sequences · canRetry · transactions (the
 * application's calls) · TxnRequestHandlers (requests, responses).
 */
#include "kp_txn_manager.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_batch.h"
#include "kp_events.h"
#include "kp_msg_txn.h"
#include "kp_network_client.h"
#include "kp_proto.h"

/* A partition of the current transaction (newPartitionsInTransaction,
 * pendingPartitionsInTransaction, partitionsInTransaction). */
typedef struct kp_tm_tp {
    char *topic;
    int32_t partition;
    enum { KP_TP_NEW, KP_TP_PENDING, KP_TP_ADDED } stage;
} kp_tm_tp;

/* TxnRequestHandler.Priority */
typedef enum kp_txn_req_kind {
    KP_TXN_REQ_FIND_COORDINATOR = 0,
    KP_TXN_REQ_INIT_PRODUCER_ID = 1,
    KP_TXN_REQ_ADD_PARTITIONS = 2,
    KP_TXN_REQ_END_TXN = 3
} kp_txn_req_kind;

/* A TxnRequestHandler with its TransactionalRequestResult. */
struct kp_txn_handler {
    kp_txn_manager *tm;
    kp_txn_req_kind kind;
    uint64_t order;           /* enqueue order among equal priorities */
    bool is_retry;
    int64_t retry_backoff_ms; /* AddPartitions may lower it (CONCURRENT_TRANSACTIONS) */
    int64_t not_before_ms;
    bool commit;              /* EndTxn: COMMIT or ABORT */
    kp_txn_result *result;    /* the application's, or NULL (nobody waits) */
};

#define KP_TM_MAX_HANDLERS 16
#define KP_TM_ADD_PARTITIONS_RETRY_BACKOFF_MS 20

typedef struct kp_tm_part {
    char *topic;
    int32_t partition;
    bool has_next_sequence;   /* nextSequence.containsKey */
    int32_t next_sequence;
    int32_t last_acked_sequence; /* -1: none */
    int64_t last_acked_offset;   /* -1: none */
    bool unresolved;
    kp_batch **inflight;      /* sorted by base sequence */
    int ninflight, cap;
} kp_tm_part;

struct kp_txn_manager {
    kp_env env;
    char *transactional_id;
    int32_t transaction_timeout_ms;
    int64_t retry_backoff_ms;
    kp_txn_state state;
    kp_err last_error;
    kp_pid_epoch pe;
    kp_tm_part *parts;
    int nparts, cap;
    uint32_t parts_gen;       /* generation of parts[] (kp_hint), from 1;
                               * bumped when the table is dropped */
    int last_part;            /* index of the last kp_tm_find hit, -1 none:
                               * a batch's calls come in runs on one partition */
    bool maybe_unresolved;    /* false: no part is unresolved (a hint that
                               * lets the per-response walk stop at once) */
    int32_t in_flight_corr;
    /* transactions */
    bool transaction_started;
    kp_tm_tp *tps;
    int ntps, tps_cap;
    bool has_coordinator;
    int32_t coordinator_id;
    char coordinator_host[256];
    int32_t coordinator_port;
    kp_txn_handler *queue[KP_TM_MAX_HANDLERS]; /* pendingRequests, unsorted */
    int nqueue;
    uint64_t next_order;
    kp_txn_handler *in_flight;  /* sent, awaiting its response */
    kp_arena *arena;            /* response decoding */
};

static const char *const kp_txn_state_names[] = {
    "UNINITIALIZED", "INITIALIZING", "READY", "IN_TRANSACTION", "COMMITTING_TRANSACTION",
    "ABORTING_TRANSACTION", "ABORTABLE_ERROR", "FATAL_ERROR"
};

const char *kp_txn_state_name(kp_txn_state s) {
    return (unsigned)s <= KP_TXN_FATAL_ERROR ? kp_txn_state_names[s] : "?";
}

static void kp_tm_emit(kp_txn_manager *tm, int kind, const char *topic, int32_t partition,
                       kp_err err, const char *detail) {
    kp_event ev;
    kp_event_init(&ev, kind, kp_clock_now_us(&tm->env.clock));
    ev.topic = topic;
    ev.partition = partition;
    ev.err = err;
    ev.producer_id = tm->pe.producer_id;
    ev.producer_epoch = tm->pe.epoch;
    ev.detail = detail;
    kp_observer_emit(&tm->env.observer, &ev);
}

/* State.isTransitionValid (2.1.1). */
static bool kp_tm_transition_valid(kp_txn_state from, kp_txn_state to) {
    switch (to) {
    case KP_TXN_INITIALIZING: return from == KP_TXN_UNINITIALIZED;
    case KP_TXN_READY:
        return from == KP_TXN_INITIALIZING || from == KP_TXN_COMMITTING_TRANSACTION ||
               from == KP_TXN_ABORTING_TRANSACTION;
    case KP_TXN_IN_TRANSACTION: return from == KP_TXN_READY;
    case KP_TXN_COMMITTING_TRANSACTION: return from == KP_TXN_IN_TRANSACTION;
    case KP_TXN_ABORTING_TRANSACTION:
        return from == KP_TXN_IN_TRANSACTION || from == KP_TXN_ABORTABLE_ERROR;
    case KP_TXN_ABORTABLE_ERROR:
        return from == KP_TXN_IN_TRANSACTION || from == KP_TXN_COMMITTING_TRANSACTION ||
               from == KP_TXN_ABORTABLE_ERROR;
    case KP_TXN_FATAL_ERROR:
    default: return true;
    }
}

static void kp_tm_msg(char *msg, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void kp_tm_msg(char *msg, size_t n, const char *fmt, ...) {
    if (!msg || !n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, n, fmt, ap);
    va_end(ap);
}

/* transitionTo: the one setter of the state. An invalid transition changes
 * nothing and is Java's KafkaException "Invalid transition attempted ..."
 * (KP_ERR__STATE, message in msg). */
static kp_err kp_tm_set_state(kp_txn_manager *tm, kp_txn_state to, kp_err err, char *msg, size_t n) {
    if (!kp_tm_transition_valid(tm->state, to)) {
        kp_tm_msg(msg, n, "%s%s%sInvalid transition attempted from state %s to state %s",
                  tm->transactional_id ? "TransactionalId " : "", tm->transactional_id ? tm->transactional_id : "",
                  tm->transactional_id ? ": " : "", kp_txn_state_name(tm->state), kp_txn_state_name(to));
        return KP_ERR__STATE;
    }
    kp_txn_state from = tm->state;
    tm->last_error = (to == KP_TXN_FATAL_ERROR || to == KP_TXN_ABORTABLE_ERROR) ? err : KP_ERR_NONE;
    tm->state = to;
    char d[80];
    snprintf(d, sizeof d, "%s -> %s", kp_txn_state_name(from), kp_txn_state_name(to));
    kp_tm_emit(tm, KP_EV_TXN_STATE, NULL, -1, tm->last_error, d);
    if (to == KP_TXN_FATAL_ERROR)
        kp_tm_emit(tm, KP_EV_FATAL_ERROR, NULL, -1, err, "TransactionManager.transitionToFatalError");
    return KP_ERR_NONE;
}

static bool kp_tm_transition_to(kp_txn_manager *tm, kp_txn_state to, kp_err err) {
    return kp_tm_set_state(tm, to, err, NULL, 0) == KP_ERR_NONE;
}

kp_txn_manager *kp_txn_manager_new(const char *transactional_id, int32_t transaction_timeout_ms,
                                   int64_t retry_backoff_ms, const kp_env *env) {
    kp_txn_manager *tm = calloc(1, sizeof *tm);
    if (!tm)
        return NULL;
    tm->last_part = -1;
    tm->parts_gen = 1;
    if (transactional_id) {
        tm->transactional_id = strdup(transactional_id);
        if (!tm->transactional_id) {
            free(tm);
            return NULL;
        }
    }
    tm->env = *env;
    tm->transaction_timeout_ms = transaction_timeout_ms;
    tm->retry_backoff_ms = retry_backoff_ms;
    tm->state = KP_TXN_UNINITIALIZED;
    tm->pe.producer_id = KP_NO_PRODUCER_ID;
    tm->pe.epoch = KP_NO_PRODUCER_EPOCH;
    tm->in_flight_corr = -1;
    tm->coordinator_id = -1;
    if (transactional_id) {
        tm->arena = kp_arena_new(0, 0);
        if (!tm->arena) {
            free(tm->transactional_id);
            free(tm);
            return NULL;
        }
    }
    return tm;
}

static void kp_tm_clear_parts(kp_txn_manager *tm) {
    for (int i = 0; i < tm->nparts; i++) {
        free(tm->parts[i].topic);
        free(tm->parts[i].inflight);
    }
    tm->nparts = 0;
    tm->parts_gen++; /* every hint taken so far is stale */
    if (tm->parts_gen == 0)
        tm->parts_gen = 1; /* 0 means "no hint" */
}

static void kp_tm_clear_tps(kp_txn_manager *tm) {
    for (int i = 0; i < tm->ntps; i++)
        free(tm->tps[i].topic);
    tm->ntps = 0;
}

void kp_txn_manager_destroy(kp_txn_manager *tm) {
    if (!tm)
        return;
    for (int i = 0; i < tm->nqueue; i++)
        free(tm->queue[i]);
    free(tm->in_flight);
    kp_tm_clear_tps(tm);
    free(tm->tps);
    kp_arena_destroy(tm->arena);
    kp_tm_clear_parts(tm);
    free(tm->parts);
    free(tm->transactional_id);
    free(tm);
}

static kp_tm_part *kp_tm_find(kp_txn_manager *tm, const char *topic, int32_t partition, bool create) {
    int l = tm->last_part;
    if (l >= 0 && l < tm->nparts && tm->parts[l].partition == partition && strcmp(tm->parts[l].topic, topic) == 0)
        return &tm->parts[l];
    for (int i = 0; i < tm->nparts; i++)
        if (tm->parts[i].partition == partition && strcmp(tm->parts[i].topic, topic) == 0) {
            tm->last_part = i;
            return &tm->parts[i];
        }
    if (!create)
        return NULL;
    if (tm->nparts == tm->cap) {
        int ncap = tm->cap ? tm->cap * 2 : 16;
        kp_tm_part *p = realloc(tm->parts, (size_t)ncap * sizeof *p);
        if (!p)
            abort(); /* sequence state cannot be dropped silently */
        tm->parts = p;
        tm->cap = ncap;
    }
    kp_tm_part *p = &tm->parts[tm->nparts++];
    memset(p, 0, sizeof *p);
    p->topic = strdup(topic);
    if (!p->topic)
        abort();
    p->partition = partition;
    p->last_acked_sequence = -1;
    p->last_acked_offset = -1;
    tm->last_part = tm->nparts - 1;
    return p;
}

/* kp_tm_find through a hint: a hit costs no lookup by name; a miss looks
 * up and fills the hint in. Entries are never removed one by one, so an
 * index of this generation still names the same (topic, partition). */
static kp_tm_part *kp_tm_find_h(kp_txn_manager *tm, const char *topic, int32_t partition, bool create,
                                kp_hint *h) {
    if (kp_hint_hit(h, tm->parts_gen, (size_t)tm->nparts)) {
        assert(tm->parts[h->ix].partition == partition);
        return &tm->parts[h->ix];
    }
    kp_tm_part *p = kp_tm_find(tm, topic, partition, create);
    if (p)
        kp_hint_set(h, tm->parts_gen, (size_t)(p - tm->parts));
    return p;
}

static kp_tm_part *kp_tm_find_b(kp_txn_manager *tm, const kp_batch *b, bool create) {
    return kp_tm_find_h(tm, kp_batch_topic(b), kp_batch_partition(b), create,
                        kp_batch_txn_hint((kp_batch *)b));
}

/* ---- identity and state ------------------------------------------- */

bool kp_txn_is_transactional(const kp_txn_manager *tm) { return tm->transactional_id != NULL; }
const char *kp_txn_transactional_id(const kp_txn_manager *tm) { return tm->transactional_id; }
kp_txn_state kp_txn_get_state(const kp_txn_manager *tm) { return tm->state; }
bool kp_txn_has_error(const kp_txn_manager *tm) {
    return tm->state == KP_TXN_ABORTABLE_ERROR || tm->state == KP_TXN_FATAL_ERROR;
}
bool kp_txn_has_fatal_error(const kp_txn_manager *tm) { return tm->state == KP_TXN_FATAL_ERROR; }
bool kp_txn_has_abortable_error(const kp_txn_manager *tm) { return tm->state == KP_TXN_ABORTABLE_ERROR; }
kp_err kp_txn_last_error(const kp_txn_manager *tm) { return tm->last_error; }

void kp_txn_transition_to_fatal_error(kp_txn_manager *tm, kp_err err) {
    kp_tm_transition_to(tm, KP_TXN_FATAL_ERROR, err);
}

void kp_txn_transition_to_abortable_error(kp_txn_manager *tm, kp_err err) {
    if (tm->state == KP_TXN_ABORTING_TRANSACTION)
        return;
    kp_tm_transition_to(tm, KP_TXN_ABORTABLE_ERROR, err);
}

bool kp_txn_is_send_to_partition_allowed(const kp_txn_manager *tm, const char *topic, int32_t partition) {
    if (kp_txn_has_fatal_error(tm))
        return false;
    return !kp_txn_is_transactional(tm) || kp_txn_is_partition_in_transaction(tm, topic, partition);
}

/* ---- producer id ---------------------------------------------------- */

bool kp_txn_has_producer_id(const kp_txn_manager *tm) { return tm->pe.producer_id != KP_NO_PRODUCER_ID; }
bool kp_txn_has_producer_id_of(const kp_txn_manager *tm, int64_t pid) { return tm->pe.producer_id == pid; }
bool kp_txn_has_producer_id_and_epoch(const kp_txn_manager *tm, int64_t pid, int16_t epoch) {
    return tm->pe.producer_id == pid && tm->pe.epoch == epoch;
}
kp_pid_epoch kp_txn_producer_id_and_epoch(const kp_txn_manager *tm) { return tm->pe; }

void kp_txn_set_producer_id_and_epoch(kp_txn_manager *tm, kp_pid_epoch pe) {
    tm->pe = pe;
    kp_tm_emit(tm, KP_EV_PRODUCER_ID, NULL, -1, KP_ERR_NONE, "TransactionManager.setProducerIdAndEpoch");
}

void kp_txn_reset_producer_id(kp_txn_manager *tm, const char *why) {
    assert(!kp_txn_is_transactional(tm)); /* Java: IllegalStateException */
    kp_tm_emit(tm, KP_EV_PRODUCER_ID_RESET, NULL, -1, KP_ERR_NONE, why ? why : "resetProducerId");
    tm->pe.producer_id = KP_NO_PRODUCER_ID;
    tm->pe.epoch = KP_NO_PRODUCER_EPOCH;
    kp_tm_clear_parts(tm);
}

/* ---- sequences ------------------------------------------------------ */

int32_t kp_txn_sequence_number(kp_txn_manager *tm, const char *topic, int32_t partition) {
    return kp_txn_sequence_number_h(tm, topic, partition, NULL);
}

int32_t kp_txn_sequence_number_h(kp_txn_manager *tm, const char *topic, int32_t partition,
                                 kp_hint *hint) {
    kp_tm_part *p = kp_tm_find_h(tm, topic, partition, true, hint);
    if (!p->has_next_sequence) {
        p->has_next_sequence = true;
        p->next_sequence = 0;
    }
    return p->next_sequence;
}

void kp_txn_increment_sequence_number(kp_txn_manager *tm, const char *topic, int32_t partition,
                                      int32_t increment) {
    kp_txn_increment_sequence_number_h(tm, topic, partition, increment, NULL);
}

void kp_txn_increment_sequence_number_h(kp_txn_manager *tm, const char *topic, int32_t partition,
                                        int32_t increment, kp_hint *hint) {
    kp_tm_part *p = kp_tm_find_h(tm, topic, partition, true, hint);
    assert(p->has_next_sequence);
    p->next_sequence = kp_sequence_increment(p->next_sequence, increment);
}

bool kp_txn_is_next_sequence(kp_txn_manager *tm, const char *topic, int32_t partition, int32_t sequence) {
    return sequence - kp_txn_last_acked_sequence(tm, topic, partition) == 1;
}

void kp_txn_maybe_update_last_acked_sequence(kp_txn_manager *tm, const char *topic, int32_t partition,
                                             int32_t sequence) {
    kp_txn_maybe_update_last_acked_sequence_h(tm, topic, partition, sequence, NULL);
}

void kp_txn_maybe_update_last_acked_sequence_h(kp_txn_manager *tm, const char *topic,
                                               int32_t partition, int32_t sequence,
                                               kp_hint *hint) {
    kp_tm_part *p = kp_tm_find_h(tm, topic, partition, true, hint);
    if (sequence > p->last_acked_sequence)
        p->last_acked_sequence = sequence;
}

int32_t kp_txn_last_acked_sequence(kp_txn_manager *tm, const char *topic, int32_t partition) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, false);
    return p ? p->last_acked_sequence : -1;
}

int64_t kp_txn_last_acked_offset(kp_txn_manager *tm, const char *topic, int32_t partition) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, false);
    return p ? p->last_acked_offset : -1;
}

void kp_txn_update_last_acked_offset(kp_txn_manager *tm, const kp_batch *b, int64_t base_offset) {
    if (base_offset == -1)
        return;
    kp_tm_part *p = kp_tm_find_b(tm, b, true);
    /* wraps like Java's long (a hostile base offset near INT64_MAX) */
    int64_t last = (int64_t)((uint64_t)base_offset + (uint64_t)kp_batch_record_count(b) - 1u);
    if (last > p->last_acked_offset)
        p->last_acked_offset = last;
}

/* ---- in-flight batches ---------------------------------------------- */

static void kp_tm_add_in_flight(kp_tm_part *p, kp_batch *b) {
    if (p->ninflight == p->cap) {
        int ncap = p->cap ? p->cap * 2 : 8;
        kp_batch **q = realloc(p->inflight, (size_t)ncap * sizeof *q);
        if (!q)
            abort();
        p->inflight = q;
        p->cap = ncap;
    }
    /* PriorityQueue by baseSequence: insert in order */
    int i = p->ninflight;
    while (i > 0 && kp_batch_base_sequence(p->inflight[i - 1]) > kp_batch_base_sequence(b)) {
        p->inflight[i] = p->inflight[i - 1];
        i--;
    }
    p->inflight[i] = b;
    p->ninflight++;
}

void kp_txn_add_in_flight_batch(kp_txn_manager *tm, kp_batch *b) {
    assert(kp_batch_has_sequence(b));
    kp_tm_add_in_flight(kp_tm_find_b(tm, b, true), b);
}

static void kp_tm_remove_in_flight(kp_tm_part *p, const kp_batch *b) {
    for (int i = 0; i < p->ninflight; i++)
        if (p->inflight[i] == b) {
            /* the rest moves up one, in order; the common case (one
             * behind) without the memmove call gcc makes of a loop */
            int last = p->ninflight - 1;
            if (i + 1 == last)
                p->inflight[i] = p->inflight[last];
            else if (i < last)
                memmove(&p->inflight[i], &p->inflight[i + 1], (size_t)(last - i) * sizeof p->inflight[0]);
            p->ninflight--;
            return;
        }
}

void kp_txn_remove_in_flight_batch(kp_txn_manager *tm, const kp_batch *b) {
    kp_tm_part *p = kp_tm_find_b(tm, b, false);
    if (p)
        kp_tm_remove_in_flight(p, b);
}

void kp_txn_batch_acked(kp_txn_manager *tm, kp_batch *b, int64_t base_offset) {
    bool same = kp_txn_has_producer_id_and_epoch(tm, kp_batch_producer_id(b), kp_batch_producer_epoch(b));
    /* maybeUpdateLastAckedSequence and updateLastAckedOffset (an offset)
     * create the entry; removeInFlightBatch alone does not */
    kp_tm_part *p = kp_tm_find_b(tm, b, same || base_offset != -1);
    if (!p)
        return;
    if (same) {
        int32_t seq = kp_batch_base_sequence(b) + kp_batch_record_count(b) - 1;
        if (seq > p->last_acked_sequence)
            p->last_acked_sequence = seq;
    }
    if (base_offset != -1) {
        /* wraps like Java's long (as kp_txn_update_last_acked_offset) */
        int64_t last = (int64_t)((uint64_t)base_offset + (uint64_t)kp_batch_record_count(b) - 1u);
        if (last > p->last_acked_offset)
            p->last_acked_offset = last;
    }
    kp_tm_remove_in_flight(p, b);
}

int32_t kp_txn_first_in_flight_sequence(kp_txn_manager *tm, const char *topic, int32_t partition) {
    return kp_txn_first_in_flight_sequence_h(tm, topic, partition, NULL);
}

int32_t kp_txn_first_in_flight_sequence_h(kp_txn_manager *tm, const char *topic, int32_t partition,
                                          kp_hint *hint) {
    kp_tm_part *p = kp_tm_find_h(tm, topic, partition, false, hint);
    if (!p || p->ninflight == 0)
        return KP_NO_SEQUENCE;
    return kp_batch_base_sequence(p->inflight[0]);
}

kp_batch *kp_txn_next_batch_by_sequence(kp_txn_manager *tm, const char *topic, int32_t partition) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, false);
    return p && p->ninflight ? p->inflight[0] : NULL;
}

bool kp_txn_has_in_flight_batches(kp_txn_manager *tm, const char *topic, int32_t partition) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, false);
    return p && p->ninflight > 0;
}

int kp_txn_in_flight_batch_count(kp_txn_manager *tm, const char *topic, int32_t partition) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, false);
    return p ? p->ninflight : 0;
}

void kp_txn_forget_in_flight_batches(kp_txn_manager *tm) {
    for (int i = 0; i < tm->nparts; i++)
        tm->parts[i].ninflight = 0;
}

/* Re-sorts after sequences changed (they move together, order is kept;
 * this is a guard for the invariant). */
static void kp_tm_sort(kp_tm_part *p) {
    for (int i = 1; i < p->ninflight; i++) {
        kp_batch *b = p->inflight[i];
        int j = i;
        while (j > 0 && kp_batch_base_sequence(p->inflight[j - 1]) > kp_batch_base_sequence(b)) {
            p->inflight[j] = p->inflight[j - 1];
            j--;
        }
        p->inflight[j] = b;
    }
}

static void kp_tm_reset_batch(kp_txn_manager *tm, kp_batch *b, int32_t seq) {
    kp_batch_reset_producer_state(b, kp_batch_producer_id(b), kp_batch_producer_epoch(b), seq,
                                  kp_batch_transactional(b));
    kp_event ev;
    kp_event_init(&ev, KP_EV_SEQUENCE_ADJUSTED, kp_clock_now_us(&tm->env.clock));
    ev.topic = kp_batch_topic(b);
    ev.partition = kp_batch_partition(b);
    ev.batch_id = kp_batch_id(b);
    ev.base_sequence = seq;
    ev.record_count = kp_batch_record_count(b);
    ev.detail = "ProducerBatch.resetProducerState";
    kp_observer_emit(&tm->env.observer, &ev);
}

void kp_txn_adjust_sequences_due_to_failed_batch(kp_txn_manager *tm, const kp_batch *b) {
    kp_tm_part *p = kp_tm_find_b(tm, b, false);
    if (!p || !p->has_next_sequence)
        return; /* not tracked: the producer id was just reset */
    int32_t n = kp_batch_record_count(b);
    int32_t next = p->next_sequence - n;
    if (next < 0) {
        /* Java: IllegalStateException in the sender thread. Broker answers
         * can bring this about (KAFKA-8484: a batch of an earlier producer
         * id), so it is data, not a programmer error: fatal, not abort(). */
        kp_txn_transition_to_fatal_error(tm, KP_ERR__STATE);
        return;
    }
    /* all later in-flight sequences must stay >= 0, checked before any moves */
    for (int i = 0; i < p->ninflight; i++) {
        kp_batch *f = p->inflight[i];
        if (kp_batch_base_sequence(f) >= kp_batch_base_sequence(b) && kp_batch_base_sequence(f) - n < 0) {
            kp_txn_transition_to_fatal_error(tm, KP_ERR__STATE);
            return;
        }
    }
    p->next_sequence = next;
    for (int i = 0; i < p->ninflight; i++) {
        kp_batch *f = p->inflight[i];
        if (kp_batch_base_sequence(f) < kp_batch_base_sequence(b))
            continue;
        kp_tm_reset_batch(tm, f, kp_batch_base_sequence(f) - n);
    }
    kp_tm_sort(p);
}

/* startSequencesAtBeginning */
static void kp_tm_start_sequences_at_beginning(kp_txn_manager *tm, kp_tm_part *p) {
    int32_t seq = 0;
    for (int i = 0; i < p->ninflight; i++) {
        kp_tm_reset_batch(tm, p->inflight[i], seq);
        seq += kp_batch_record_count(p->inflight[i]);
    }
    p->has_next_sequence = true;
    p->next_sequence = seq;
    p->last_acked_sequence = -1;
}

/* ---- the drain's questions, fused ------------------------------------ */

bool kp_txn_drain_take_h(kp_txn_manager *tm, kp_batch *b, const char *topic, int32_t partition,
                         kp_hint *hint) {
    if (!kp_txn_is_send_to_partition_allowed(tm, topic, partition))
        return true;
    if (tm->pe.producer_id == KP_NO_PRODUCER_ID)
        return true;
    /* hasUnresolvedSequence / firstInFlightSequence of an unknown
     * partition: false / NO_SEQUENCE, so it does not stop */
    kp_tm_part *p = kp_tm_find_h(tm, topic, partition, false, hint);
    if (kp_batch_has_sequence(b)) /* sent before: keeps its producer state */
        return p && p->ninflight > 0 && kp_batch_base_sequence(b) != kp_batch_base_sequence(p->inflight[0]);
    if (p && p->unresolved)
        return true;
    if (!p) /* sequenceNumber(tp) creates the entry */
        p = kp_tm_find_h(tm, topic, partition, true, hint);
    if (!p->has_next_sequence) { /* sequenceNumber(tp) of a new partition */
        p->has_next_sequence = true;
        p->next_sequence = 0;
    }
    kp_batch_assign_producer_state(b, tm->pe.producer_id, tm->pe.epoch, p->next_sequence,
                                   kp_txn_is_transactional(tm));
    p->next_sequence = kp_sequence_increment(p->next_sequence, kp_batch_record_count(b));
    kp_tm_add_in_flight(p, b);
    return false;
}

bool kp_txn_sender_idle(const kp_txn_manager *tm) {
    return tm->transactional_id == NULL && !tm->maybe_unresolved && tm->pe.producer_id != KP_NO_PRODUCER_ID &&
           tm->state != KP_TXN_FATAL_ERROR && tm->state != KP_TXN_ABORTABLE_ERROR;
}

/* ---- unresolved sequences ------------------------------------------- */

bool kp_txn_has_unresolved_sequences(const kp_txn_manager *tm) {
    for (int i = 0; i < tm->nparts; i++)
        if (tm->parts[i].unresolved)
            return true;
    return false;
}

bool kp_txn_has_unresolved_sequence(kp_txn_manager *tm, const char *topic, int32_t partition) {
    return kp_txn_has_unresolved_sequence_h(tm, topic, partition, NULL);
}

bool kp_txn_has_unresolved_sequence_h(kp_txn_manager *tm, const char *topic, int32_t partition,
                                      kp_hint *hint) {
    kp_tm_part *p = kp_tm_find_h(tm, topic, partition, false, hint);
    return p && p->unresolved;
}

void kp_txn_mark_sequence_unresolved(kp_txn_manager *tm, const char *topic, int32_t partition) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, true);
    p->unresolved = true;
    tm->maybe_unresolved = true;
    kp_tm_emit(tm, KP_EV_SEQUENCE_UNRESOLVED, p->topic, partition, KP_ERR_NONE,
               "TransactionManager.markSequenceUnresolved");
}

bool kp_txn_should_reset_producer_state_after_resolving_sequences(kp_txn_manager *tm) {
    if (kp_txn_is_transactional(tm) || !tm->maybe_unresolved)
        return false;
    bool still = false;
    for (int i = 0; i < tm->nparts; i++) {
        kp_tm_part *p = &tm->parts[i];
        if (p->unresolved && p->ninflight > 0)
            still = true;
        if (!p->unresolved || p->ninflight > 0)
            continue;
        int32_t next = kp_txn_sequence_number(tm, p->topic, p->partition);
        p = &tm->parts[i]; /* (no reallocation for an existing entry) */
        if (next - p->last_acked_sequence == 1)
            p->unresolved = false; /* a later batch succeeded: resolved */
        else
            return true;
    }
    if (!still)
        tm->maybe_unresolved = false;
    return false;
}

/* ---- canRetry --------------------------------------------------------- */

bool kp_txn_can_retry(kp_txn_manager *tm, kp_err error, int64_t log_start_offset, kp_batch *b) {
    if (!kp_txn_has_producer_id_of(tm, kp_batch_producer_id(b)))
        return false;
    const char *topic = kp_batch_topic(b);
    int32_t partition = kp_batch_partition(b);
    if (error == KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER && !kp_txn_has_unresolved_sequence(tm, topic, partition) &&
        (kp_batch_sequence_has_been_reset(b) ||
         !kp_txn_is_next_sequence(tm, topic, partition, kp_batch_base_sequence(b))))
        return true;
    if (error == KP_ERR_UNKNOWN_PRODUCER_ID) {
        if (log_start_offset == -1)
            return true;
        if (kp_batch_sequence_has_been_reset(b))
            return true;
        if (kp_txn_last_acked_offset(tm, topic, partition) < log_start_offset) {
            kp_tm_part *p = kp_tm_find(tm, topic, partition, true);
            kp_tm_start_sequences_at_beginning(tm, p);
            return true;
        }
    }
    return false;
}

/* ====================================================================== */
/* transactions: the application's calls                                   */
/* ====================================================================== */

static kp_err kp_tm_ensure_transactional(const kp_txn_manager *tm, char *msg, size_t n) {
    if (kp_txn_is_transactional(tm))
        return KP_ERR_NONE;
    kp_tm_msg(msg, n, "Transactional method invoked on a non-transactional producer.");
    return KP_ERR__STATE;
}

/* maybeFailWithError */
static kp_err kp_tm_maybe_fail_with_error(const kp_txn_manager *tm, char *msg, size_t n) {
    if (!kp_txn_has_error(tm))
        return KP_ERR_NONE;
    kp_tm_msg(msg, n, "Cannot execute transactional method because we are in an error state: %s",
              kp_err_desc(tm->last_error));
    return tm->last_error != KP_ERR_NONE ? tm->last_error : KP_ERR__STATE;
}

static kp_tm_tp *kp_tm_tp_find(const kp_txn_manager *tm, const char *topic, int32_t partition) {
    for (int i = 0; i < tm->ntps; i++)
        if (tm->tps[i].partition == partition && strcmp(tm->tps[i].topic, topic) == 0)
            return &tm->tps[i];
    return NULL;
}

static void kp_tm_tp_remove_at(kp_txn_manager *tm, int i) {
    free(tm->tps[i].topic);
    memmove(&tm->tps[i], &tm->tps[i + 1], (size_t)(tm->ntps - i - 1) * sizeof tm->tps[0]);
    tm->ntps--;
}

static int kp_tm_count_stage(const kp_txn_manager *tm, unsigned stage) {
    int n = 0;
    for (int i = 0; i < tm->ntps; i++)
        n += (unsigned)tm->tps[i].stage == stage;
    return n;
}

bool kp_txn_is_partition_in_transaction(const kp_txn_manager *tm, const char *topic, int32_t partition) {
    const kp_tm_tp *t = kp_tm_tp_find(tm, topic, partition);
    return t && t->stage == KP_TP_ADDED;
}
bool kp_txn_has_partitions_to_add(const kp_txn_manager *tm) {
    return kp_tm_count_stage(tm, KP_TP_NEW) + kp_tm_count_stage(tm, KP_TP_PENDING) > 0;
}
bool kp_txn_is_completing(const kp_txn_manager *tm) {
    return tm->state == KP_TXN_COMMITTING_TRANSACTION || tm->state == KP_TXN_ABORTING_TRANSACTION;
}
bool kp_txn_is_aborting(const kp_txn_manager *tm) { return tm->state == KP_TXN_ABORTING_TRANSACTION; }
bool kp_txn_has_ongoing_transaction(const kp_txn_manager *tm) {
    return tm->state == KP_TXN_IN_TRANSACTION || kp_txn_is_completing(tm) || kp_txn_has_abortable_error(tm);
}

static void kp_tm_result_start(kp_txn_result *res) {
    if (!res)
        return;
    res->done = false;
    res->err = KP_ERR_NONE;
    res->msg[0] = '\0';
}

static kp_txn_handler *kp_tm_handler_new(kp_txn_manager *tm, kp_txn_req_kind kind, kp_txn_result *res) {
    kp_txn_handler *h = calloc(1, sizeof *h);
    if (!h)
        abort(); /* a lost transactional request cannot be reported anywhere */
    h->tm = tm;
    h->kind = kind;
    h->retry_backoff_ms = tm->retry_backoff_ms;
    h->result = res;
    kp_tm_result_start(res);
    return h;
}

/* enqueueRequest. The queue is bounded: at most one FindCoordinator, one
 * InitProducerId, one AddPartitionsToTxn and one EndTxn are ever queued;
 * overflowing it (a bug) is a fatal error, not a crash. */
static void kp_tm_enqueue(kp_txn_manager *tm, kp_txn_handler *h, bool new_order) {
    if (new_order)
        h->order = tm->next_order++;
    if (tm->nqueue == KP_TM_MAX_HANDLERS) {
        if (h->result) {
            h->result->err = KP_ERR__STATE;
            snprintf(h->result->msg, sizeof h->result->msg, "too many transactional requests pending");
            h->result->done = true;
        }
        free(h);
        kp_txn_transition_to_fatal_error(tm, KP_ERR__STATE);
        return;
    }
    tm->queue[tm->nqueue++] = h;
}

static void kp_tm_enqueue_add_partitions(kp_txn_manager *tm) {
    /* addPartitionsToTransactionHandler: new -> pending. A request is
     * built from every pending partition when it is sent, so one queued
     * AddPartitionsToTxn is enough (Java queues one per call; with many
     * partitions arriving during a backoff that would only add requests). */
    for (int i = 0; i < tm->ntps; i++)
        if (tm->tps[i].stage == KP_TP_NEW)
            tm->tps[i].stage = KP_TP_PENDING;
    for (int i = 0; i < tm->nqueue; i++)
        if (tm->queue[i]->kind == KP_TXN_REQ_ADD_PARTITIONS)
            return;
    kp_tm_enqueue(tm, kp_tm_handler_new(tm, KP_TXN_REQ_ADD_PARTITIONS, NULL), true);
}

kp_err kp_txn_initialize_transactions(kp_txn_manager *tm, kp_txn_result *res, char *msg, size_t n) {
    kp_err e = kp_tm_ensure_transactional(tm, msg, n);
    if (e == KP_ERR_NONE)
        e = kp_tm_set_state(tm, KP_TXN_INITIALIZING, KP_ERR_NONE, msg, n);
    if (e != KP_ERR_NONE)
        return e;
    tm->pe.producer_id = KP_NO_PRODUCER_ID;
    tm->pe.epoch = KP_NO_PRODUCER_EPOCH;
    kp_tm_clear_parts(tm); /* nextSequence.clear() */
    kp_tm_enqueue(tm, kp_tm_handler_new(tm, KP_TXN_REQ_INIT_PRODUCER_ID, res), true);
    return KP_ERR_NONE;
}

kp_err kp_txn_begin_transaction(kp_txn_manager *tm, char *msg, size_t n) {
    kp_err e = kp_tm_ensure_transactional(tm, msg, n);
    if (e == KP_ERR_NONE)
        e = kp_tm_maybe_fail_with_error(tm, msg, n);
    if (e == KP_ERR_NONE)
        e = kp_tm_set_state(tm, KP_TXN_IN_TRANSACTION, KP_ERR_NONE, msg, n);
    return e;
}

/* beginCompletingTransaction */
static void kp_tm_begin_completing(kp_txn_manager *tm, bool commit, kp_txn_result *res) {
    if (kp_tm_count_stage(tm, KP_TP_NEW) > 0)
        kp_tm_enqueue_add_partitions(tm);
    kp_txn_handler *h = kp_tm_handler_new(tm, KP_TXN_REQ_END_TXN, res);
    h->commit = commit;
    kp_tm_enqueue(tm, h, true);
}

kp_err kp_txn_begin_commit(kp_txn_manager *tm, kp_txn_result *res, char *msg, size_t n) {
    kp_err e = kp_tm_ensure_transactional(tm, msg, n);
    if (e == KP_ERR_NONE)
        e = kp_tm_maybe_fail_with_error(tm, msg, n);
    if (e == KP_ERR_NONE)
        e = kp_tm_set_state(tm, KP_TXN_COMMITTING_TRANSACTION, KP_ERR_NONE, msg, n);
    if (e != KP_ERR_NONE)
        return e;
    kp_tm_begin_completing(tm, true, res);
    return KP_ERR_NONE;
}

kp_err kp_txn_begin_abort(kp_txn_manager *tm, kp_txn_result *res, char *msg, size_t n) {
    kp_err e = kp_tm_ensure_transactional(tm, msg, n);
    if (e == KP_ERR_NONE && tm->state != KP_TXN_ABORTABLE_ERROR)
        e = kp_tm_maybe_fail_with_error(tm, msg, n);
    if (e == KP_ERR_NONE)
        e = kp_tm_set_state(tm, KP_TXN_ABORTING_TRANSACTION, KP_ERR_NONE, msg, n);
    if (e != KP_ERR_NONE)
        return e;
    /* "We're aborting the transaction, so there should be no need to add
     * new partitions" */
    for (int i = tm->ntps - 1; i >= 0; i--)
        if (tm->tps[i].stage == KP_TP_NEW)
            kp_tm_tp_remove_at(tm, i);
    kp_tm_begin_completing(tm, false, res);
    return KP_ERR_NONE;
}

kp_err kp_txn_maybe_add_partition_to_transaction(kp_txn_manager *tm, const char *topic, int32_t partition,
                                                 char *msg, size_t n) {
    /* failIfNotReadyForSend */
    if (kp_txn_has_error(tm)) {
        kp_tm_msg(msg, n, "Cannot perform send because at least one previous transactional or idempotent "
                          "request has failed with errors: %s", kp_err_desc(tm->last_error));
        return tm->last_error != KP_ERR_NONE ? tm->last_error : KP_ERR__STATE;
    }
    if (!kp_txn_is_transactional(tm))
        return KP_ERR_NONE;
    if (!kp_txn_has_producer_id(tm)) {
        kp_tm_msg(msg, n, "Cannot perform a 'send' before completing a call to initTransactions when "
                          "transactions are enabled.");
        return KP_ERR__STATE;
    }
    if (tm->state != KP_TXN_IN_TRANSACTION) {
        kp_tm_msg(msg, n, "Cannot call send in state %s", kp_txn_state_name(tm->state));
        return KP_ERR__STATE;
    }
    if (kp_tm_tp_find(tm, topic, partition))
        return KP_ERR_NONE; /* added or pending add */
    if (tm->ntps == tm->tps_cap) {
        int ncap = tm->tps_cap ? tm->tps_cap * 2 : 16;
        kp_tm_tp *q = realloc(tm->tps, (size_t)ncap * sizeof *q);
        if (!q)
            abort();
        tm->tps = q;
        tm->tps_cap = ncap;
    }
    kp_tm_tp *t = &tm->tps[tm->ntps];
    t->topic = strdup(topic);
    if (!t->topic)
        abort();
    t->partition = partition;
    t->stage = KP_TP_NEW;
    tm->ntps++;
    kp_tm_emit(tm, KP_EV_TXN_PARTITION_ADDED, t->topic, partition, KP_ERR_NONE,
               "TransactionManager.maybeAddPartitionToTransaction");
    return KP_ERR_NONE;
}

void kp_txn_forget_result(kp_txn_manager *tm, kp_txn_result *res) {
    for (int i = 0; i < tm->nqueue; i++)
        if (tm->queue[i]->result == res)
            tm->queue[i]->result = NULL;
    if (tm->in_flight && tm->in_flight->result == res)
        tm->in_flight->result = NULL;
}

/* completeTransaction */
static void kp_tm_complete_transaction(kp_txn_manager *tm) {
    kp_tm_transition_to(tm, KP_TXN_READY, KP_ERR_NONE);
    tm->transaction_started = false;
    kp_tm_clear_tps(tm);
}

/* ====================================================================== */
/* TxnRequestHandlers                                                      */
/* ====================================================================== */

static const char *const kp_tm_handler_names[] = { "FindCoordinator", "InitProducerId", "AddPartitionsToTxn",
                                                   "EndTxn" };

const char *kp_txn_handler_name(const kp_txn_handler *h) { return kp_tm_handler_names[h->kind]; }
bool kp_txn_handler_needs_coordinator(const kp_txn_handler *h) { return h->kind != KP_TXN_REQ_FIND_COORDINATOR; }
int64_t kp_txn_handler_not_before(const kp_txn_handler *h) { return h->is_retry ? h->not_before_ms : 0; }

int16_t kp_txn_handler_api_key(const kp_txn_handler *h) {
    switch (h->kind) {
    case KP_TXN_REQ_FIND_COORDINATOR: return KP_API_FIND_COORDINATOR;
    case KP_TXN_REQ_INIT_PRODUCER_ID: return KP_API_INIT_PRODUCER_ID;
    case KP_TXN_REQ_ADD_PARTITIONS: return KP_API_ADD_PARTITIONS_TO_TXN;
    case KP_TXN_REQ_END_TXN:
    default: return KP_API_END_TXN;
    }
}

int16_t kp_txn_handler_min_version(const kp_txn_handler *h) {
    switch (h->kind) {
    case KP_TXN_REQ_FIND_COORDINATOR: return 1; /* key_type (TRANSACTION) needs v1 */
    case KP_TXN_REQ_INIT_PRODUCER_ID: return KP_INIT_PRODUCER_ID_MIN_VERSION;
    case KP_TXN_REQ_ADD_PARTITIONS: return KP_ADD_PARTITIONS_TO_TXN_MIN_VERSION;
    case KP_TXN_REQ_END_TXN:
    default: return KP_END_TXN_MIN_VERSION;
    }
}

int16_t kp_txn_handler_max_version(const kp_txn_handler *h) {
    switch (h->kind) {
    case KP_TXN_REQ_FIND_COORDINATOR: return KP_FIND_COORDINATOR_MAX_VERSION;
    case KP_TXN_REQ_INIT_PRODUCER_ID: return KP_INIT_PRODUCER_ID_MAX_VERSION;
    case KP_TXN_REQ_ADD_PARTITIONS: return KP_ADD_PARTITIONS_TO_TXN_MAX_VERSION;
    case KP_TXN_REQ_END_TXN:
    default: return KP_END_TXN_MAX_VERSION;
    }
}

/* pendingRequests.peek / poll: lowest priority value, then enqueue order. */
static int kp_tm_queue_min(const kp_txn_manager *tm) {
    int best = -1;
    for (int i = 0; i < tm->nqueue; i++) {
        const kp_txn_handler *h = tm->queue[i];
        if (best < 0 || h->kind < tm->queue[best]->kind ||
            (h->kind == tm->queue[best]->kind && h->order < tm->queue[best]->order))
            best = i;
    }
    return best;
}

static kp_txn_handler *kp_tm_queue_take(kp_txn_manager *tm, int i) {
    kp_txn_handler *h = tm->queue[i];
    memmove(&tm->queue[i], &tm->queue[i + 1], (size_t)(tm->nqueue - i - 1) * sizeof tm->queue[0]);
    tm->nqueue--;
    return h;
}

static void kp_tm_handler_finish(kp_txn_handler *h, kp_err err, const char *msg) {
    if (h->result) {
        h->result->err = err;
        snprintf(h->result->msg, sizeof h->result->msg, "%s", msg ? msg : "");
        h->result->done = true;
    }
    free(h);
}

/* TxnRequestHandler.fatalError / abortableError / fail */
static void kp_tm_fatal(kp_txn_handler *h, kp_err err, const char *msg) {
    kp_txn_manager *tm = h->tm;
    kp_tm_handler_finish(h, err, msg);
    kp_txn_transition_to_fatal_error(tm, err);
}
static void kp_tm_abortable(kp_txn_handler *h, kp_err err, const char *msg) {
    kp_txn_manager *tm = h->tm;
    kp_tm_handler_finish(h, err, msg);
    kp_txn_transition_to_abortable_error(tm, err);
}

static int64_t kp_tm_backoff(const kp_txn_handler *h) {
    int64_t b = h->tm->retry_backoff_ms;
    if (h->kind == KP_TXN_REQ_ADD_PARTITIONS && h->retry_backoff_ms < b)
        b = h->retry_backoff_ms;
    return b;
}

void kp_txn_retry(kp_txn_manager *tm, kp_txn_handler *h) {
    h->is_retry = true;
    h->not_before_ms = kp_clock_now_ms(&tm->env.clock) + kp_tm_backoff(h);
    kp_tm_enqueue(tm, h, true);
}

void kp_txn_requeue(kp_txn_manager *tm, kp_txn_handler *h) { kp_tm_enqueue(tm, h, false); }

void kp_txn_lookup_coordinator(kp_txn_manager *tm) {
    tm->has_coordinator = false;
    /* one pending FindCoordinator is enough (Java may queue several) */
    for (int i = 0; i < tm->nqueue; i++)
        if (tm->queue[i]->kind == KP_TXN_REQ_FIND_COORDINATOR)
            return;
    if (tm->in_flight && tm->in_flight->kind == KP_TXN_REQ_FIND_COORDINATOR)
        return;
    kp_tm_enqueue(tm, kp_tm_handler_new(tm, KP_TXN_REQ_FIND_COORDINATOR, NULL), true);
}

bool kp_txn_coordinator(const kp_txn_manager *tm, kp_node *out) {
    if (!tm->has_coordinator)
        return false;
    out->id = tm->coordinator_id;
    out->host = tm->coordinator_host;
    out->port = tm->coordinator_port;
    return true;
}

/* maybeTerminateRequestWithError */
static bool kp_tm_maybe_terminate_with_error(kp_txn_manager *tm, kp_txn_handler *h) {
    if (!kp_txn_has_error(tm))
        return false;
    if (kp_txn_has_abortable_error(tm) && h->kind == KP_TXN_REQ_FIND_COORDINATOR)
        return false; /* no harm letting FindCoordinator through when we expect to abort */
    kp_tm_handler_finish(h, tm->last_error, kp_err_desc(tm->last_error));
    return true;
}

kp_txn_handler *kp_txn_next_request_handler(kp_txn_manager *tm, bool has_incomplete_batches) {
    if (kp_tm_count_stage(tm, KP_TP_NEW) > 0)
        kp_tm_enqueue_add_partitions(tm);
    int i = kp_tm_queue_min(tm);
    if (i < 0)
        return NULL;
    /* do not send the EndTxn until all batches have been flushed */
    if (tm->queue[i]->kind == KP_TXN_REQ_END_TXN && has_incomplete_batches)
        return NULL;
    kp_txn_handler *h = kp_tm_queue_take(tm, i);
    if (kp_tm_maybe_terminate_with_error(tm, h))
        return NULL;
    if (h->kind == KP_TXN_REQ_END_TXN && !tm->transaction_started) {
        /* "Not sending EndTxn for completed transaction since no partitions
         * or offsets were successfully added" */
        kp_tm_handler_finish(h, KP_ERR_NONE, NULL);
        if (tm->state != KP_TXN_FATAL_ERROR)
            kp_tm_complete_transaction(tm);
        i = kp_tm_queue_min(tm);
        h = i < 0 ? NULL : kp_tm_queue_take(tm, i);
    }
    return h;
}

void kp_txn_set_in_flight_request_correlation_id(kp_txn_manager *tm, int32_t corr) { tm->in_flight_corr = corr; }
void kp_txn_clear_in_flight_request_correlation_id(kp_txn_manager *tm) { tm->in_flight_corr = -1; }
bool kp_txn_has_in_flight_transactional_request(const kp_txn_manager *tm) { return tm->in_flight_corr != -1; }
bool kp_txn_has_pending_requests(const kp_txn_manager *tm) {
    return tm->nqueue > 0 || tm->in_flight || kp_tm_count_stage(tm, KP_TP_NEW) > 0;
}

/* ---- request bodies ------------------------------------------------------
 *
 * FindCoordinator v1..v2 (KP_API_FIND_COORDINATOR = 10):
 *   OFFSET SIZE DESCRIPTION
 *   0      2+n  key       STRING  the transactional.id
 *   2+n    1    key_type  INT8    1 = TRANSACTION
 * InitProducerId v0..v1 (22):
 *   0      2+n  transactional_id        NULLABLE_STRING
 *   2+n    4    transaction_timeout_ms  INT32
 * AddPartitionsToTxn v0..v1 (24):
 *   0      2+n  transactional_id  STRING
 *   2+n    8    producer_id       INT64
 *   10+n   2    producer_epoch    INT16
 *   12+n   4    topic count, then per topic: STRING name, INT32 count,
 *               INT32 partitions (the pending partitions, first-use order)
 * EndTxn v0..v1 (26):
 *   0      2+n  transactional_id    STRING
 *   2+n    8    producer_id         INT64
 *   10+n   2    producer_epoch      INT16
 *   12+n   1    transaction_result  BOOLEAN (true = COMMIT)
 */
bool kp_txn_handler_encode(void *ctx, kp_writer *w, int16_t version) {
    kp_txn_handler *h = ctx;
    kp_txn_manager *tm = h->tm;
    kp_slice tid = kp_slice_str(tm->transactional_id);
    switch (h->kind) {
    case KP_TXN_REQ_FIND_COORDINATOR: {
        kp_find_coordinator_request m = { tid, KP_COORDINATOR_TRANSACTION };
        kp_find_coordinator_request_encode(w, version, &m);
        return true;
    }
    case KP_TXN_REQ_INIT_PRODUCER_ID: {
        kp_init_producer_id_request m = { tid, tm->transaction_timeout_ms };
        kp_init_producer_id_request_encode(w, version, &m);
        return true;
    }
    case KP_TXN_REQ_END_TXN: {
        kp_end_txn_request m = { tid, tm->pe.producer_id, tm->pe.epoch, h->commit };
        kp_end_txn_request_encode(w, version, &m);
        return true;
    }
    case KP_TXN_REQ_ADD_PARTITIONS:
    default: break;
    }
    /* group the pending partitions by topic, in first-use order */
    kp_arena_reset(tm->arena);
    int npending = kp_tm_count_stage(tm, KP_TP_PENDING);
    kp_add_partitions_to_txn_topic *topics =
        kp_arena_alloc(tm->arena, (size_t)(npending ? npending : 1) * sizeof *topics);
    int32_t *parts = kp_arena_alloc(tm->arena, (size_t)(npending ? npending : 1) * sizeof *parts);
    if (!topics || !parts)
        return false;
    int32_t nt = 0, used = 0;
    for (int i = 0; i < tm->ntps; i++) {
        const kp_tm_tp *t = &tm->tps[i];
        if (t->stage != KP_TP_PENDING)
            continue;
        bool seen = false;
        for (int32_t k = 0; k < nt && !seen; k++)
            seen = topics[k].topic.len == (int32_t)strlen(t->topic) &&
                   memcmp(topics[k].topic.ptr, t->topic, strlen(t->topic)) == 0;
        if (seen)
            continue;
        kp_add_partitions_to_txn_topic *tt = &topics[nt++];
        tt->topic = kp_slice_str(t->topic);
        tt->partitions = &parts[used];
        tt->partition_count = 0;
        for (int j = i; j < tm->ntps; j++)
            if (tm->tps[j].stage == KP_TP_PENDING && strcmp(tm->tps[j].topic, t->topic) == 0) {
                parts[used++] = tm->tps[j].partition;
                tt->partition_count++;
            }
    }
    kp_add_partitions_to_txn_request m = { tid, tm->pe.producer_id, tm->pe.epoch, nt, topics };
    kp_add_partitions_to_txn_request_encode(w, version, &m);
    return true;
}

/* ---- responses ------------------------------------------------------------ */

static void kp_tm_emit_response(kp_txn_manager *tm, const kp_txn_handler *h, const kp_client_response *r,
                                kp_err err) {
    kp_event ev;
    kp_event_init(&ev, KP_EV_TXN_RESPONSE, kp_clock_now_us(&tm->env.clock));
    ev.node = r->node;
    ev.correlation_id = r->correlation_id;
    ev.api_key = kp_txn_handler_api_key(h);
    ev.err = err;
    ev.producer_id = tm->pe.producer_id;
    ev.producer_epoch = tm->pe.epoch;
    ev.detail = kp_txn_handler_name(h);
    kp_observer_emit(&tm->env.observer, &ev);
}

static const char *kp_tm_fenced_msg =
    "Producer attempted an operation with an old epoch. Either there is a newer producer with the same "
    "transactionalId, or the producer's transaction has been expired by the broker.";

static void kp_tm_handle_find_coordinator(kp_txn_handler *h, const kp_find_coordinator_response *m) {
    kp_txn_manager *tm = h->tm;
    kp_err err = (kp_err)m->error_code;
    char msg[300];
    if (err == KP_ERR_NONE) {
        tm->has_coordinator = true;
        tm->coordinator_id = m->node_id;
        snprintf(tm->coordinator_host, sizeof tm->coordinator_host, "%.*s", m->host.len < 0 ? 0 : (int)m->host.len,
                 (const char *)m->host.ptr);
        tm->coordinator_port = m->port;
        kp_event ev;
        kp_event_init(&ev, KP_EV_TXN_COORDINATOR, kp_clock_now_us(&tm->env.clock));
        ev.node = m->node_id;
        ev.detail = "FindCoordinatorHandler: transaction coordinator found";
        kp_observer_emit(&tm->env.observer, &ev);
        kp_tm_handler_finish(h, KP_ERR_NONE, NULL);
    } else if (err == KP_ERR_COORDINATOR_NOT_AVAILABLE) {
        kp_txn_retry(tm, h);
    } else if (err == KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED) {
        kp_tm_fatal(h, err, kp_err_desc(err));
    } else if (err == KP_ERR_GROUP_AUTHORIZATION_FAILED) {
        kp_tm_abortable(h, err, kp_err_desc(err));
    } else {
        snprintf(msg, sizeof msg,
                 "Could not find a coordinator with type TRANSACTION with key %s due to unexpected error: %s",
                 tm->transactional_id, kp_err_desc(err));
        kp_tm_fatal(h, err, msg);
    }
}

static void kp_tm_handle_init_producer_id(kp_txn_handler *h, const kp_init_producer_id_response *m) {
    kp_txn_manager *tm = h->tm;
    kp_err err = (kp_err)m->error_code;
    char msg[300];
    if (err == KP_ERR_NONE) {
        kp_txn_set_producer_id_and_epoch(tm, (kp_pid_epoch){ m->producer_id, m->producer_epoch });
        kp_tm_transition_to(tm, KP_TXN_READY, KP_ERR_NONE);
        kp_tm_handler_finish(h, KP_ERR_NONE, NULL);
    } else if (err == KP_ERR_NOT_COORDINATOR || err == KP_ERR_COORDINATOR_NOT_AVAILABLE) {
        kp_txn_lookup_coordinator(tm);
        kp_txn_retry(tm, h);
    } else if (err == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS || err == KP_ERR_CONCURRENT_TRANSACTIONS) {
        kp_txn_retry(tm, h);
    } else if (err == KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED) {
        kp_tm_fatal(h, err, kp_err_desc(err));
    } else {
        snprintf(msg, sizeof msg, "Unexpected error in InitProducerIdResponse; %s", kp_err_desc(err));
        kp_tm_fatal(h, err, msg);
    }
}

static void kp_tm_handle_add_partitions(kp_txn_handler *h, const kp_add_partitions_to_txn_response *m) {
    kp_txn_manager *tm = h->tm;
    bool partition_errors = false, unauthorized = false;
    kp_err first_err = KP_ERR_NONE;
    h->retry_backoff_ms = tm->retry_backoff_ms;
    for (int32_t i = 0; i < m->topic_count; i++) {
        for (int32_t j = 0; j < m->topics[i].partition_count; j++) {
            kp_err err = (kp_err)m->topics[i].partitions[j].error_code;
            if (err == KP_ERR_NONE)
                continue;
            if (err == KP_ERR_COORDINATOR_NOT_AVAILABLE || err == KP_ERR_NOT_COORDINATOR) {
                kp_txn_lookup_coordinator(tm);
                kp_txn_retry(tm, h);
                return;
            }
            if (err == KP_ERR_CONCURRENT_TRANSACTIONS) {
                /* maybeOverrideRetryBackoffMs: the previous transaction is
                 * still completing; retry the first add sooner */
                if (kp_tm_count_stage(tm, KP_TP_ADDED) == 0)
                    h->retry_backoff_ms = KP_TM_ADD_PARTITIONS_RETRY_BACKOFF_MS;
                kp_txn_retry(tm, h);
                return;
            }
            if (err == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS || err == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION) {
                kp_txn_retry(tm, h);
                return;
            }
            if (err == KP_ERR_INVALID_PRODUCER_EPOCH) {
                kp_tm_fatal(h, err, kp_tm_fenced_msg);
                return;
            }
            if (err == KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED || err == KP_ERR_INVALID_PRODUCER_ID_MAPPING ||
                err == KP_ERR_INVALID_TXN_STATE) {
                kp_tm_fatal(h, err, kp_err_desc(err));
                return;
            }
            if (err == KP_ERR_TOPIC_AUTHORIZATION_FAILED)
                unauthorized = true;
            else
                partition_errors = true; /* OPERATION_NOT_ATTEMPTED and the unexpected */
            if (first_err == KP_ERR_NONE)
                first_err = err;
        }
    }
    /* the partitions answered leave the pending set whatever the result */
    bool ok = !unauthorized && !partition_errors;
    for (int32_t i = 0; i < m->topic_count; i++) {
        char topic[256];
        snprintf(topic, sizeof topic, "%.*s", m->topics[i].topic.len < 0 ? 0 : (int)m->topics[i].topic.len,
                 (const char *)m->topics[i].topic.ptr);
        for (int32_t j = 0; j < m->topics[i].partition_count; j++) {
            for (int k = 0; k < tm->ntps; k++) {
                kp_tm_tp *t = &tm->tps[k];
                if (t->stage != KP_TP_PENDING || t->partition != m->topics[i].partitions[j].partition ||
                    strcmp(t->topic, topic) != 0)
                    continue;
                if (ok)
                    t->stage = KP_TP_ADDED;
                else
                    kp_tm_tp_remove_at(tm, k);
                break;
            }
        }
    }
    if (unauthorized) {
        kp_tm_abortable(h, KP_ERR_TOPIC_AUTHORIZATION_FAILED, kp_err_desc(KP_ERR_TOPIC_AUTHORIZATION_FAILED));
    } else if (partition_errors) {
        char msg[200];
        snprintf(msg, sizeof msg, "Could not add partitions to transaction due to errors: %s", kp_err_name(first_err));
        kp_tm_abortable(h, first_err, msg);
    } else {
        tm->transaction_started = true;
        kp_tm_handler_finish(h, KP_ERR_NONE, NULL);
    }
}

static void kp_tm_handle_end_txn(kp_txn_handler *h, const kp_end_txn_response *m) {
    kp_txn_manager *tm = h->tm;
    kp_err err = (kp_err)m->error_code;
    char msg[300];
    if (err == KP_ERR_NONE) {
        kp_tm_emit(tm, h->commit ? KP_EV_TXN_COMMITTED : KP_EV_TXN_ABORTED, NULL, -1, KP_ERR_NONE,
                   h->commit ? "EndTxnHandler: transaction committed" : "EndTxnHandler: transaction aborted");
        kp_tm_complete_transaction(tm);
        kp_tm_handler_finish(h, KP_ERR_NONE, NULL);
    } else if (err == KP_ERR_COORDINATOR_NOT_AVAILABLE || err == KP_ERR_NOT_COORDINATOR) {
        kp_txn_lookup_coordinator(tm);
        kp_txn_retry(tm, h);
    } else if (err == KP_ERR_COORDINATOR_LOAD_IN_PROGRESS || err == KP_ERR_CONCURRENT_TRANSACTIONS) {
        kp_txn_retry(tm, h);
    } else if (err == KP_ERR_INVALID_PRODUCER_EPOCH) {
        kp_tm_fatal(h, err, kp_tm_fenced_msg);
    } else if (err == KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED || err == KP_ERR_INVALID_TXN_STATE) {
        kp_tm_fatal(h, err, kp_err_desc(err));
    } else {
        snprintf(msg, sizeof msg, "Unhandled error in EndTxnResponse: %s", kp_err_desc(err));
        kp_tm_fatal(h, err, msg);
    }
}

/* TxnRequestHandler.onComplete */
void kp_txn_handler_on_complete(void *ctx, const kp_client_response *r) {
    kp_txn_handler *h = ctx;
    kp_txn_manager *tm = h->tm;
    if (tm->in_flight == h)
        tm->in_flight = NULL;
    if (r->correlation_id != tm->in_flight_corr) {
        kp_tm_emit_response(tm, h, r, KP_ERR__STATE);
        kp_tm_fatal(h, KP_ERR__STATE, "Detected more than one in-flight transactional request.");
        return;
    }
    kp_txn_clear_in_flight_request_correlation_id(tm);
    if (r->disconnected) {
        kp_tm_emit_response(tm, h, r, KP_ERR_NETWORK_EXCEPTION);
        if (kp_txn_handler_needs_coordinator(h))
            kp_txn_lookup_coordinator(tm);
        kp_txn_retry(tm, h);
        return;
    }
    if (r->version_mismatch) {
        kp_tm_emit_response(tm, h, r, KP_ERR_UNSUPPORTED_VERSION);
        kp_tm_fatal(h, KP_ERR_UNSUPPORTED_VERSION, kp_err_desc(KP_ERR_UNSUPPORTED_VERSION));
        return;
    }
    if (!r->body) {
        kp_tm_emit_response(tm, h, r, KP_ERR__STATE);
        kp_tm_fatal(h, KP_ERR__STATE, "Could not execute transactional request for unknown reasons");
        return;
    }
    kp_arena_reset(tm->arena);
    kp_reader rd;
    kp_rd_init(&rd, r->body, r->body_len);
    kp_err derr;
    switch (h->kind) {
    case KP_TXN_REQ_FIND_COORDINATOR: {
        kp_find_coordinator_response m;
        memset(&m, 0, sizeof m);
        derr = kp_find_coordinator_response_decode(&rd, r->api_version, tm->arena, &m);
        if (derr != KP_ERR_NONE)
            break;
        kp_tm_emit_response(tm, h, r, (kp_err)m.error_code);
        kp_tm_handle_find_coordinator(h, &m);
        return;
    }
    case KP_TXN_REQ_INIT_PRODUCER_ID: {
        kp_init_producer_id_response m;
        memset(&m, 0, sizeof m);
        derr = kp_init_producer_id_response_decode(&rd, r->api_version, tm->arena, &m);
        if (derr != KP_ERR_NONE)
            break;
        kp_tm_emit_response(tm, h, r, (kp_err)m.error_code);
        kp_tm_handle_init_producer_id(h, &m);
        return;
    }
    case KP_TXN_REQ_ADD_PARTITIONS: {
        kp_add_partitions_to_txn_response m;
        memset(&m, 0, sizeof m);
        derr = kp_add_partitions_to_txn_response_decode(&rd, r->api_version, tm->arena, &m);
        if (derr != KP_ERR_NONE)
            break;
        kp_err first = KP_ERR_NONE;
        for (int32_t i = 0; i < m.topic_count && first == KP_ERR_NONE; i++)
            for (int32_t j = 0; j < m.topics[i].partition_count && first == KP_ERR_NONE; j++)
                first = (kp_err)m.topics[i].partitions[j].error_code;
        kp_tm_emit_response(tm, h, r, first);
        kp_tm_handle_add_partitions(h, &m);
        return;
    }
    case KP_TXN_REQ_END_TXN:
    default: {
        kp_end_txn_response m;
        memset(&m, 0, sizeof m);
        derr = kp_end_txn_response_decode(&rd, r->api_version, tm->arena, &m);
        if (derr != KP_ERR_NONE)
            break;
        kp_tm_emit_response(tm, h, r, (kp_err)m.error_code);
        kp_tm_handle_end_txn(h, &m);
        return;
    }
    }
    /* a response that does not parse: like a broken connection, retried */
    kp_tm_emit_response(tm, h, r, KP_ERR__BAD_MSG);
    if (kp_txn_handler_needs_coordinator(h))
        kp_txn_lookup_coordinator(tm);
    kp_txn_retry(tm, h);
}

/* The Sender sent h (it is now owned by the in-flight request). */
void kp_txn_handler_sent(kp_txn_manager *tm, kp_txn_handler *h, int32_t corr) {
    tm->in_flight = h;
    tm->in_flight_corr = corr;
}
bool kp_txn_verify(const kp_txn_manager *tm) {
    /* transactions: partitions only in a transactional manager, each once;
     * the handler in flight is not also queued; a correlation id iff a
     * handler is in flight */
    if (!tm->transactional_id && (tm->ntps > 0 || tm->nqueue > 0 || tm->in_flight))
        return false;
    for (int i = 0; i < tm->ntps; i++)
        for (int j = i + 1; j < tm->ntps; j++)
            if (tm->tps[i].partition == tm->tps[j].partition && strcmp(tm->tps[i].topic, tm->tps[j].topic) == 0)
                return false;
    for (int i = 0; i < tm->nqueue; i++)
        if (tm->queue[i] == tm->in_flight)
            return false;
    if ((tm->in_flight != NULL) != (tm->in_flight_corr != -1))
        return false;
    for (int i = 0; i < tm->nparts; i++) {
        const kp_tm_part *p = &tm->parts[i];
        if (p->has_next_sequence && p->next_sequence < 0)
            return false;
        for (int j = 0; j < p->ninflight; j++) {
            if (!kp_batch_has_sequence(p->inflight[j]))
                return false;
            if (j > 0 && kp_batch_base_sequence(p->inflight[j - 1]) >= kp_batch_base_sequence(p->inflight[j]))
                return false;
        }
    }
    return true;
}
