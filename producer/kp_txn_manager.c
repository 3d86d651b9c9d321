/*
 * kp_txn_manager.c — TransactionManager (idempotence part) of
 * kafka-clients 2.1.1; see kp_txn_manager.h.
 */
#include "kp_txn_manager.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_batch.h"
#include "kp_events.h"

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
    int32_t in_flight_corr;
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

/* transitionTo: the one setter of the state. */
static bool kp_tm_transition_to(kp_txn_manager *tm, kp_txn_state to, kp_err err) {
    if (!kp_tm_transition_valid(tm->state, to))
        return false;
    kp_txn_state from = tm->state;
    tm->last_error = (to == KP_TXN_FATAL_ERROR || to == KP_TXN_ABORTABLE_ERROR) ? err : KP_ERR_NONE;
    tm->state = to;
    char d[80];
    snprintf(d, sizeof d, "%s -> %s", kp_txn_state_name(from), kp_txn_state_name(to));
    kp_tm_emit(tm, KP_EV_TXN_STATE, NULL, -1, tm->last_error, d);
    if (to == KP_TXN_FATAL_ERROR)
        kp_tm_emit(tm, KP_EV_FATAL_ERROR, NULL, -1, err, "TransactionManager.transitionToFatalError");
    return true;
}

kp_txn_manager *kp_txn_manager_new(const char *transactional_id, int32_t transaction_timeout_ms,
                                   int64_t retry_backoff_ms, const kp_env *env) {
    kp_txn_manager *tm = calloc(1, sizeof *tm);
    if (!tm)
        return NULL;
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
    return tm;
}

static void kp_tm_clear_parts(kp_txn_manager *tm) {
    for (int i = 0; i < tm->nparts; i++) {
        free(tm->parts[i].topic);
        free(tm->parts[i].inflight);
    }
    tm->nparts = 0;
}

void kp_txn_manager_destroy(kp_txn_manager *tm) {
    if (!tm)
        return;
    kp_tm_clear_parts(tm);
    free(tm->parts);
    free(tm->transactional_id);
    free(tm);
}

static kp_tm_part *kp_tm_find(kp_txn_manager *tm, const char *topic, int32_t partition, bool create) {
    for (int i = 0; i < tm->nparts; i++)
        if (tm->parts[i].partition == partition && strcmp(tm->parts[i].topic, topic) == 0)
            return &tm->parts[i];
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
    return p;
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
    (void)topic;
    (void)partition;
    /* 2.1.1: hasFatalError() -> false; transactional: partition added
     * (transactions are not implemented yet, so only the first part) */
    return !kp_txn_has_fatal_error(tm);
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
    kp_tm_part *p = kp_tm_find(tm, topic, partition, true);
    if (!p->has_next_sequence) {
        p->has_next_sequence = true;
        p->next_sequence = 0;
    }
    return p->next_sequence;
}

void kp_txn_increment_sequence_number(kp_txn_manager *tm, const char *topic, int32_t partition,
                                      int32_t increment) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, true);
    assert(p->has_next_sequence);
    p->next_sequence = kp_sequence_increment(p->next_sequence, increment);
}

bool kp_txn_is_next_sequence(kp_txn_manager *tm, const char *topic, int32_t partition, int32_t sequence) {
    return sequence - kp_txn_last_acked_sequence(tm, topic, partition) == 1;
}

void kp_txn_maybe_update_last_acked_sequence(kp_txn_manager *tm, const char *topic, int32_t partition,
                                             int32_t sequence) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, true);
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
    kp_tm_part *p = kp_tm_find(tm, kp_batch_topic(b), kp_batch_partition(b), true);
    int64_t last = base_offset + kp_batch_record_count(b) - 1;
    if (last > p->last_acked_offset)
        p->last_acked_offset = last;
}

/* ---- in-flight batches ---------------------------------------------- */

void kp_txn_add_in_flight_batch(kp_txn_manager *tm, kp_batch *b) {
    assert(kp_batch_has_sequence(b));
    kp_tm_part *p = kp_tm_find(tm, kp_batch_topic(b), kp_batch_partition(b), true);
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

void kp_txn_remove_in_flight_batch(kp_txn_manager *tm, const kp_batch *b) {
    kp_tm_part *p = kp_tm_find(tm, kp_batch_topic(b), kp_batch_partition(b), false);
    if (!p)
        return;
    for (int i = 0; i < p->ninflight; i++)
        if (p->inflight[i] == b) {
            memmove(&p->inflight[i], &p->inflight[i + 1], (size_t)(p->ninflight - i - 1) * sizeof p->inflight[0]);
            p->ninflight--;
            return;
        }
}

int32_t kp_txn_first_in_flight_sequence(kp_txn_manager *tm, const char *topic, int32_t partition) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, false);
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
    kp_tm_part *p = kp_tm_find(tm, kp_batch_topic(b), kp_batch_partition(b), false);
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

/* ---- unresolved sequences ------------------------------------------- */

bool kp_txn_has_unresolved_sequences(const kp_txn_manager *tm) {
    for (int i = 0; i < tm->nparts; i++)
        if (tm->parts[i].unresolved)
            return true;
    return false;
}

bool kp_txn_has_unresolved_sequence(kp_txn_manager *tm, const char *topic, int32_t partition) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, false);
    return p && p->unresolved;
}

void kp_txn_mark_sequence_unresolved(kp_txn_manager *tm, const char *topic, int32_t partition) {
    kp_tm_part *p = kp_tm_find(tm, topic, partition, true);
    p->unresolved = true;
    kp_tm_emit(tm, KP_EV_SEQUENCE_UNRESOLVED, p->topic, partition, KP_ERR_NONE,
               "TransactionManager.markSequenceUnresolved");
}

bool kp_txn_should_reset_producer_state_after_resolving_sequences(kp_txn_manager *tm) {
    if (kp_txn_is_transactional(tm))
        return false;
    for (int i = 0; i < tm->nparts; i++) {
        kp_tm_part *p = &tm->parts[i];
        if (!p->unresolved || p->ninflight > 0)
            continue;
        int32_t next = kp_txn_sequence_number(tm, p->topic, p->partition);
        p = &tm->parts[i]; /* (no reallocation for an existing entry) */
        if (next - p->last_acked_sequence == 1)
            p->unresolved = false; /* a later batch succeeded: resolved */
        else
            return true;
    }
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

/* ---- transactional request bookkeeping ------------------------------- */

void kp_txn_set_in_flight_request_correlation_id(kp_txn_manager *tm, int32_t corr) { tm->in_flight_corr = corr; }
void kp_txn_clear_in_flight_request_correlation_id(kp_txn_manager *tm) { tm->in_flight_corr = -1; }
bool kp_txn_has_in_flight_transactional_request(const kp_txn_manager *tm) { return tm->in_flight_corr != -1; }

bool kp_txn_verify(const kp_txn_manager *tm) {
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
