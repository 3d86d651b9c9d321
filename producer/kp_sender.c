/*
 * kp_sender.c — Sender of kafka-clients 2.1.1, branch for branch with the
 * annotated Sender.java (see kp_sender.h for the model). Sections follow
 * the Java file: run loop · InitProducerId · sendProducerData ·
 * sendProduceRequest · handleProduceResponse · completeBatch / failBatch.
 */
#include "kp_sender.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_arena.h"
#include "kp_batch.h"
#include "kp_events.h"
#include "kp_proto.h"

/* One ProduceRequest in flight: the batches it carries (Java's
 * recordsByPartition), recycled through a free list. */
typedef struct kp_sreq {
    kp_sender *s;
    int32_t node;
    kp_batch **batches;
    int nbatches, cap;
    bool live;
    struct kp_sreq *next_free;
} kp_sreq;

/* Java Sender.inFlightBatches: per partition, batches in send order. */
typedef struct kp_sinflight {
    const char *topic;   /* interned by the accumulator */
    int32_t partition;
    kp_batch **batches;
    int n, cap;
    int64_t head_created; /* batches[0]'s created_ms (kp_s_head_changed) */
} kp_sinflight;

/* Called whenever batches[0] may have changed (a batch's created_ms never
 * does), so the expiry walk reads the head's age without a call; *lb is
 * the sender's bound on every head's creation time (inflight_lb). */
static void kp_s_head_changed(kp_sinflight *f, int64_t *lb) {
    f->head_created = f->n > 0 ? kp_batch_created_ms(f->batches[0]) : INT64_MAX;
    if (f->head_created < *lb)
        *lb = f->head_created;
}

struct kp_sender {
    const kp_config *cfg;
    kp_accumulator *acc;
    kp_metadata *md;
    kp_netclient *nc;
    kp_txn_manager *tm;
    kp_metrics *metrics;
    kp_env env;
    bool guarantee_order;
    int16_t acks;
    int32_t retries;
    int32_t max_request_size;
    int64_t request_timeout_ms;
    int64_t retry_backoff_ms;
    bool running, force_close, closed, aborted;
    /* InitProducerId (maybeWaitForProducerId without blocking) */
    bool pid_in_flight;
    int64_t pid_backoff_until;
    /* bookkeeping */
    kp_sinflight *inflight;
    int ninflight, inflight_cap;
    /* No in-flight head was created before this (INT64_MAX: none seen):
     * lowered by kp_s_head_changed, set exactly by each expiry walk. With
     * the accumulator's bound it lets a run skip both expiry walks while
     * nothing can have reached delivery.timeout.ms (kp_s_expire). */
    int64_t inflight_lb;
    kp_sreq **reqs;           /* every request record ever made (for free) */
    int nreqs, reqs_cap;
    kp_sreq *free_reqs;
    kp_arena *arena;
    const kp_drain_result *sending; /* drained this round, requests not built yet */
    /* Caches keyed by a batch's topic pointer, the accumulator's interned
     * copy (never written, alive as long as the accumulator: the same
     * address is the same name): the metrics' entry of the last topic
     * recorded, and the last topic's name as the encoder writes it (the
     * response handler compares answers' topics with it too). */
    const char *m_topic;
    kp_hint m_hint;
    const char *enc_topic;
    kp_slice enc_topic_s;
    kp_sender_stats stats;
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */
/* ------------------------------------------------------------------ */

static int64_t kp_s_now_us(const kp_sender *s) {
    return kp_clock_now_us(&s->env.clock);
}

static void kp_s_emit_batch(kp_sender *s, int kind, const kp_batch *b, kp_err err, int64_t offset,
                            int32_t node, int32_t corr, int64_t value, const char *detail) {
    kp_event ev;
    kp_event_init(&ev, kind, 0);
    ev.topic = kp_batch_topic(b);
    ev.partition = kp_batch_partition(b);
    ev.batch_id = kp_batch_id(b);
    ev.record_count = kp_batch_record_count(b);
    ev.base_sequence = kp_batch_base_sequence(b);
    ev.attempt = kp_batch_attempts(b);
    ev.producer_id = kp_batch_producer_id(b);
    ev.producer_epoch = kp_batch_producer_epoch(b);
    ev.err = err;
    ev.offset = offset;
    ev.node = node;
    ev.correlation_id = corr;
    ev.value = value;
    ev.detail = detail;
    /* the clock last: its read may be a call, and then no argument is
     * live across it (read first, it kept six registers saved per event) */
    ev.time_us = kp_s_now_us(s);
    kp_observer_emit(&s->env.observer, &ev);
}

/* Topic names as batches carry them: the accumulator's interned copy, so
 * the same topic is nearly always the same pointer (strcmp otherwise). */
static bool kp_s_same_topic(const char *a, const char *b) {
    return a == b || strcmp(a, b) == 0;
}

static kp_sinflight *kp_s_inflight_find(kp_sender *s, const char *topic, int32_t partition) {
    for (int i = 0; i < s->ninflight; i++)
        if (s->inflight[i].partition == partition && kp_s_same_topic(s->inflight[i].topic, topic))
            return &s->inflight[i];
    return NULL;
}

/* a partition's first in-flight batch: a new list (kept out of line) */
static __attribute__((noinline)) kp_sinflight *kp_s_inflight_new(kp_sender *s, const char *topic,
                                                                 int32_t partition) {
    if (s->ninflight == s->inflight_cap) {
        int ncap = s->inflight_cap ? s->inflight_cap * 2 : 16;
        kp_sinflight *p = realloc(s->inflight, (size_t)ncap * sizeof *p);
        if (!p)
            abort(); /* losing track of a batch would lose its callbacks */
        s->inflight = p;
        s->inflight_cap = ncap;
    }
    kp_sinflight *f = &s->inflight[s->ninflight++];
    memset(f, 0, sizeof *f);
    f->topic = topic;
    f->partition = partition;
    return f;
}

/* Sender.addToInflightBatches */
static void kp_s_add_inflight(kp_sender *s, kp_batch *b) {
    const char *topic = kp_batch_topic(b);
    int32_t partition = kp_batch_partition(b);
    kp_sinflight *f = kp_s_inflight_find(s, topic, partition);
    if (!f)
        f = kp_s_inflight_new(s, topic, partition);
    if (f->n == f->cap) {
        int ncap = f->cap ? f->cap * 2 : 8;
        kp_batch **p = realloc(f->batches, (size_t)ncap * sizeof *p);
        if (!p)
            abort();
        f->batches = p;
        f->cap = ncap;
    }
    f->batches[f->n++] = b;
    if (f->n == 1)
        kp_s_head_changed(f, &s->inflight_lb);
}

/* Sender.maybeRemoveFromInflightBatches */
static void kp_s_remove_inflight(kp_sender *s, kp_batch *b) {
    kp_sinflight *f = kp_s_inflight_find(s, kp_batch_topic(b), kp_batch_partition(b));
    if (!f)
        return;
    for (int i = 0; i < f->n; i++)
        if (f->batches[i] == b) {
            /* the rest moves up one, in order; the common case (one
             * behind) without the memmove call gcc makes of a loop */
            int last = f->n - 1;
            if (i + 1 == last)
                f->batches[i] = f->batches[last];
            else if (i < last)
                memmove(&f->batches[i], &f->batches[i + 1], (size_t)(last - i) * sizeof f->batches[0]);
            f->n--;
            if (i == 0)
                kp_s_head_changed(f, &s->inflight_lb);
            return;
        }
}

/* Is the batch carried by a request still in flight? Such a batch may be
 * failed (expired) but not freed until its request completes. */
static bool kp_s_in_live_request(const kp_sender *s, kp_batch *b) {
    if (s->sending) /* Java sends an expired drained batch all the same */
        for (size_t i = 0; i < s->sending->node_count; i++)
            for (size_t j = 0; j < s->sending->nodes[i].count; j++)
                if (s->sending->nodes[i].batches[j] == b)
                    return true;
    /* A batch is in at most one live request, the last one that took it
     * (it is drained again only after that request's answer, which ends
     * the request's life first): its slot names that request, which may
     * since have ended or been reused for other batches. */
    const kp_sreq *r = *kp_batch_sender_req(b);
    if (!r || !r->live)
        return false;
    for (int j = 0; j < r->nbatches; j++)
        if (r->batches[j] == b)
            return true;
    return false;
}

/* accumulator.deallocate unless a live request still carries the batch
 * (then the request's completion frees it). */
static void kp_s_release(kp_sender *s, kp_batch *b) {
    if (kp_s_in_live_request(s, b))
        return;
    kp_accumulator_deallocate(s->acc, b);
}

static kp_sreq *kp_s_req_get(kp_sender *s) {
    kp_sreq *r = s->free_reqs;
    if (r) {
        s->free_reqs = r->next_free;
    } else {
        if (s->nreqs == s->reqs_cap) {
            int ncap = s->reqs_cap ? s->reqs_cap * 2 : 16;
            kp_sreq **p = realloc(s->reqs, (size_t)ncap * sizeof *p);
            if (!p)
                return NULL;
            s->reqs = p;
            s->reqs_cap = ncap;
        }
        r = calloc(1, sizeof *r);
        if (!r)
            return NULL;
        s->reqs[s->nreqs++] = r;
    }
    r->s = s;
    r->nbatches = 0;
    r->live = true;
    r->next_free = NULL;
    return r;
}

static void kp_s_req_put(kp_sender *s, kp_sreq *r) {
    r->live = false;
    r->nbatches = 0;
    r->next_free = s->free_reqs;
    s->free_reqs = r;
}

static bool kp_s_req_add(kp_sreq *r, kp_batch *b) {
    if (r->nbatches == r->cap) {
        int ncap = r->cap ? r->cap * 2 : 8;
        kp_batch **p = realloc(r->batches, (size_t)ncap * sizeof *p);
        if (!p)
            return false;
        r->batches = p;
        r->cap = ncap;
    }
    r->batches[r->nbatches++] = b;
    *kp_batch_sender_req(b) = r;
    return true;
}

/* ------------------------------------------------------------------ */
/* failBatch / completeBatch (success)                                 */
/* ------------------------------------------------------------------ */

static bool kp_s_is_ooos(kp_err e) {
    /* OutOfOrderSequenceException and its subclass UnknownProducerIdException */
    return e == KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER || e == KP_ERR_UNKNOWN_PRODUCER_ID;
}

/* Sender.failBatch(batch, baseOffset, logAppendTime, exception, adjustSequenceNumbers).
 * release: false while the batch's request is still in flight (expiry). */
static void kp_s_fail_batch(kp_sender *s, kp_batch *b, int64_t base_offset, int64_t log_append_time,
                            kp_err err, const char *msg, bool adjust_sequences, int64_t now) {
    if (s->tm) {
        /* KAFKA-8484 fix (2.3 handleFailedBatch): a batch of an earlier
         * producer id/epoch still moves the manager to an error state, but
         * says nothing about the current id's sequences: it only leaves
         * the in-flight set. (With bug.KAFKA-8484=true, 2.1.1 rewinds the
         * NEW id's sequences by its records: acked records are then
         * answered as duplicates and never written.) */
        bool stale = !s->cfg->bug_kafka_8484 &&
                     !kp_txn_has_producer_id_and_epoch(s->tm, kp_batch_producer_id(b), kp_batch_producer_epoch(b));
        if (!stale && kp_s_is_ooos(err) && !kp_txn_is_transactional(s->tm) &&
            kp_txn_has_producer_id_of(s->tm, kp_batch_producer_id(b))) {
            /* "This indicates data loss on the broker": reset the producer id */
            kp_txn_reset_producer_id(s->tm, "Sender.failBatch: OutOfOrderSequence for the current producer id");
            s->stats.producer_id_resets++;
        } else if (err == KP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
                   err == KP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
                   err == KP_ERR_INVALID_PRODUCER_EPOCH || err == KP_ERR_UNSUPPORTED_VERSION) {
            kp_txn_transition_to_fatal_error(s->tm, err);
        } else if (kp_txn_is_transactional(s->tm)) {
            kp_txn_transition_to_abortable_error(s->tm, err);
        }
        kp_txn_remove_in_flight_batch(s->tm, b);
        if (adjust_sequences && !stale) {
            /* rewrites the headers of in-flight batches, whose bytes the
             * transport may still read in place: it takes them back first
             * (the bytes already sent keep their old sequences) */
            kp_netclient_reclaim(s->nc);
            kp_txn_adjust_sequences_due_to_failed_batch(s->tm, b);
        }
    }
    if (s->metrics)
        kp_metrics_record_errors(s->metrics, kp_batch_topic(b), kp_batch_record_count(b), now);
    s->stats.failed++;
    kp_s_emit_batch(s, KP_EV_BATCH_FAILED, b, err, base_offset, -1, -1, -1, msg);
    if (kp_batch_done(b, base_offset, log_append_time, err, msg, NULL)) {
        kp_s_remove_inflight(s, b);
        kp_s_release(s, b);
    }
}

/* Sender.completeBatch(batch, response): success. */
static void kp_s_complete_ok(kp_sender *s, kp_batch *b, int64_t base_offset, int64_t log_append_time) {
    /* hasProducerIdAndEpoch -> maybeUpdateLastAckedSequence,
     * updateLastAckedOffset, removeInFlightBatch: one call */
    if (s->tm)
        kp_txn_batch_acked(s->tm, b, base_offset);
    if (kp_batch_done(b, base_offset, log_append_time, KP_ERR_NONE, NULL, NULL)) {
        kp_s_remove_inflight(s, b);
        kp_s_release(s, b);
    }
}

/* Sender.reenqueueBatch */
static void kp_s_reenqueue(kp_sender *s, kp_batch *b, kp_err err, int64_t now) {
    kp_accumulator_reenqueue(s->acc, b, now);
    kp_s_remove_inflight(s, b);
    if (s->metrics)
        kp_metrics_record_retries(s->metrics, kp_batch_topic(b), kp_batch_record_count(b), now);
    s->stats.retries++;
    kp_s_emit_batch(s, KP_EV_RETRY, b, err, -1, -1, -1, s->retries - kp_batch_attempts(b),
                    "Sender.reenqueueBatch");
}

/* Sender.canRetry (2.1.1): not past delivery.timeout.ms, attempts left,
 * not done, and retriable or allowed by the transaction manager. */
static bool kp_s_can_retry(kp_sender *s, kp_batch *b, kp_err err, int64_t log_start_offset, int64_t now) {
    if (kp_batch_has_reached_delivery_timeout(b, kp_accumulator_delivery_timeout_ms(s->acc), now))
        return false;
    if (kp_batch_attempts(b) >= s->retries || kp_batch_is_done(b))
        return false;
    if (kp_err_is_retriable(err))
        return true;
    if (!s->tm)
        return false;
    if (err == KP_ERR_UNKNOWN_PRODUCER_ID) /* may restart in-flight sequences: see above */
        kp_netclient_reclaim(s->nc);
    return kp_txn_can_retry(s->tm, err, log_start_offset, b);
}

/* ------------------------------------------------------------------ */
/* completeBatch (Sender.completeBatch with a PartitionResponse)        */
/* ------------------------------------------------------------------ */

typedef struct kp_part_resp {
    kp_err error;
    int64_t base_offset;
    int64_t log_append_time;
    int64_t log_start_offset;
} kp_part_resp;

static void kp_s_complete_batch(kp_sender *s, kp_batch *b, const kp_part_resp *r, int32_t node,
                                int32_t corr, int64_t now, int64_t throttle_until_ms) {
    kp_err error = r->error;
    /* completing, failing or splitting may release b: keep what the
     * ordered-mode unmute at the end needs */
    char topic[256];
    int32_t partition = kp_batch_partition(b);
    if (s->guarantee_order)
        snprintf(topic, sizeof topic, "%s", kp_batch_topic(b));
    kp_s_emit_batch(s, KP_EV_PRODUCE_RESPONSE, b, error, r->base_offset, node, corr, -1,
                    "Sender.handleProduceResponse -> completeBatch");
    if (error == KP_ERR_MESSAGE_TOO_LARGE && kp_batch_record_count(b) > 1 && !kp_batch_is_done(b) && s->tm &&
        kp_batch_has_sequence(b) &&
        !kp_txn_has_producer_id_and_epoch(s->tm, kp_batch_producer_id(b), kp_batch_producer_epoch(b))) {
        /* A batch of an earlier producer id/epoch: splitting it would put
         * pieces with the old id into the new session's in-flight set,
         * where a later sequence reset renumbers them into the new id's
         * range (reordered, or acknowledged as duplicates and never
         * written). Treated like a retry whose producer id changed, as the
         * retry branch below does. 2.1.1 splits here without the check
         * (catalog finding F14; docs/producer-io.md). */
        char msg[200];
        snprintf(msg, sizeof msg,
                 "Attempted to split a batch but the producer id changed from %" PRId64
                 " to %" PRId64 " in the mean time. This batch will be dropped.",
                 kp_batch_producer_id(b), kp_txn_producer_id_and_epoch(s->tm).producer_id);
        kp_s_fail_batch(s, b, -1, -1, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, msg, false, now);
    } else if (error == KP_ERR_MESSAGE_TOO_LARGE && kp_batch_record_count(b) > 1 && !kp_batch_is_done(b)) {
        /* magic is always v2 here: split, re-enqueue, attempts not counted */
        kp_s_emit_batch(s, KP_EV_SENDER_SPLIT, b, error, -1, node, corr, s->retries - kp_batch_attempts(b),
                        "Sender.completeBatch: splitting and retrying");
        if (s->tm)
            kp_txn_remove_in_flight_batch(s->tm, b);
        kp_err serr = KP_ERR_NONE;
        int pieces = kp_accumulator_split_and_reenqueue(s->acc, b, now, &serr);
        if (pieces < 0) {
            /* could not split (allocation): fail it as Java would fail the
             * RecordBatchTooLargeException of an unsplittable batch */
            kp_s_fail_batch(s, b, -1, -1, KP_ERR_MESSAGE_TOO_LARGE, "The request included a message larger than the max message size the server will accept.", false, now);
        } else {
            s->stats.splits++;
            if (s->metrics)
                kp_metrics_record_split(s->metrics, now);
            if (s->cfg->bug_kafka_8325) {
                /* KAFKA-8325: the big batch is not removed from the
                 * in-flight batches; it is expired again later. Its
                 * deallocation moves to that expiry. */
            } else {
                kp_s_remove_inflight(s, b); /* the fix, apache/kafka#7176 */
                kp_s_release(s, b);
            }
        }
    } else if (error != KP_ERR_NONE) {
        if (kp_s_can_retry(s, b, error, r->log_start_offset, now)) {
            if (!s->tm) {
                kp_s_reenqueue(s, b, error, now);
            } else if (kp_txn_has_producer_id_and_epoch(s->tm, kp_batch_producer_id(b),
                                                        kp_batch_producer_epoch(b))) {
                kp_s_reenqueue(s, b, error, now);
            } else {
                char msg[200];
                snprintf(msg, sizeof msg,
                         "Attempted to retry sending a batch but the producer id changed from %" PRId64
                         " to %" PRId64 " in the mean time. This batch will be dropped.",
                         kp_batch_producer_id(b), kp_txn_producer_id_and_epoch(s->tm).producer_id);
                kp_s_fail_batch(s, b, r->base_offset, r->log_append_time, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                msg, false, now);
            }
        } else if (error == KP_ERR_DUPLICATE_SEQUENCE_NUMBER) {
            /* the sequence advanced past this batch and the broker no
             * longer has its metadata: success without offset */
            s->stats.duplicates++;
            kp_s_complete_ok(s, b, r->base_offset, r->log_append_time);
        } else {
            char msg[300];
            if (error == KP_ERR_TOPIC_AUTHORIZATION_FAILED)
                snprintf(msg, sizeof msg, "Not authorized to access topics: [%s]", kp_batch_topic(b));
            else if (error == KP_ERR_CLUSTER_AUTHORIZATION_FAILED)
                snprintf(msg, sizeof msg, "The producer is not authorized to do idempotent sends");
            else
                snprintf(msg, sizeof msg, "%s", kp_err_desc(error));
            /* only adjust sequences when retries were not exhausted: else
             * the broker may have accepted the sequence */
            kp_s_fail_batch(s, b, r->base_offset, r->log_append_time, error, msg,
                            kp_batch_attempts(b) < s->retries, now);
        }
#ifndef KP_MUTANT_NO_METADATA_REFRESH /* mutant (tests/mutants): NOT_LEADER & co. no longer request a metadata update */
        if (kp_err_is_invalid_metadata(error))
            kp_metadata_request_update(s->md, now);
#endif
    } else {
        kp_s_complete_ok(s, b, r->base_offset, r->log_append_time);
    }
    if (s->guarantee_order)
        kp_accumulator_unmute_partition(s->acc, topic, partition, throttle_until_ms, now);
}

/* ------------------------------------------------------------------ */
/* handleProduceResponse                                               */
/* ------------------------------------------------------------------ */

static void kp_s_handle_produce_response(void *ctx, const kp_client_response *resp) {
    kp_sreq *r = ctx;
    kp_sender *s = r->s;
    int64_t now = kp_clock_now_ms(&s->env.clock);
    if (s->aborted) {
        /* force close in progress: the batches are aborted by the
         * accumulator; only free the ones already failed earlier */
        for (int i = 0; i < r->nbatches; i++)
            if (kp_batch_is_done(r->batches[i]))
                kp_accumulator_deallocate(s->acc, r->batches[i]);
        kp_s_req_put(s, r);
        return;
    }
    /* batches failed while in flight (expired) are freed after this */
    bool dsmall[64];
    bool *was_done = r->nbatches <= 64 ? dsmall : calloc((size_t)r->nbatches, sizeof *was_done);
    if (!was_done)
        abort();
    for (int i = 0; i < r->nbatches; i++)
        was_done[i] = kp_batch_is_done(r->batches[i]);
    /* the request stops being live: completions below may free batches */
    r->live = false;

    kp_part_resp pr = { KP_ERR_NONE, -1, -1, -1 };
    if (resp->disconnected || resp->version_mismatch) {
        /* every batch, done or not, as Java does (a batch that expired in
         * flight goes through failBatch again: its done() is a no-op) */
        pr.error = resp->disconnected ? KP_ERR_NETWORK_EXCEPTION : KP_ERR_UNSUPPORTED_VERSION;
        for (int i = 0; i < r->nbatches; i++)
            kp_s_complete_batch(s, r->batches[i], &pr, resp->node, resp->correlation_id, now, 0);
    } else if (resp->body) {
        kp_arena_reset(s->arena);
        kp_reader rd;
        kp_rd_init(&rd, resp->body, resp->body_len);
        kp_produce_response m;
        memset(&m, 0, sizeof m);
        kp_err derr = kp_produce_response_decode(&rd, resp->api_version, s->arena, &m);
        if (derr != KP_ERR_NONE) {
            /* a malformed answer: like a lost one (Java would throw in the
             * parser and the connection would be closed). One event says
             * what was wrong with it (err = the decoder's verdict) before
             * the batches complete with NETWORK_EXCEPTION. */
            kp_event bad;
            kp_event_init(&bad, KP_EV_PRODUCE_RESPONSE, kp_s_now_us(s));
            bad.node = resp->node;
            bad.correlation_id = resp->correlation_id;
            bad.api_key = KP_API_PRODUCE;
            bad.err = derr;
            bad.bytes = (int64_t)resp->body_len;
            bad.detail = "Sender.handleProduceResponse: malformed ProduceResponse body";
            kp_observer_emit(&s->env.observer, &bad);
            pr.error = KP_ERR_NETWORK_EXCEPTION;
            for (int i = 0; i < r->nbatches; i++)
                kp_s_complete_batch(s, r->batches[i], &pr, resp->node, resp->correlation_id, now, 0);
        } else {
            if (s->metrics)
                kp_metrics_record_throttle(s->metrics, m.throttle_time_ms, now);
            if (resp->api_version >= 6 && m.throttle_time_ms > 0)
                kp_netclient_throttle(s->nc, resp->node, m.throttle_time_ms, now);
            int64_t throttle_until = resp->received_ms + m.throttle_time_ms;
            for (int32_t t = 0; t < m.topic_count; t++) {
                const kp_produce_topic_response *tr = &m.topics[t];
                /* batches of one topic share its interned name: compare
                 * the answer's name once per name */
                const char *cmp_topic = NULL;
                bool cmp_eq = false;
                for (int32_t p = 0; p < tr->partition_count; p++) {
                    const kp_produce_partition_response *pp = &tr->partitions[p];
                    for (int i = 0; i < r->nbatches; i++) {
                        kp_batch *b = r->batches[i];
                        if (!b) /* answered already: may be freed */
                            continue;
                        if (kp_batch_partition(b) != pp->partition)
                            continue;
                        const char *topic = kp_batch_topic(b);
                        if (topic != cmp_topic) {
                            cmp_topic = topic;
                            /* the encoder's cached name when it is that
                             * topic (its length known: no strlen) */
                            if (topic == s->enc_topic)
                                cmp_eq = tr->topic.len == s->enc_topic_s.len &&
                                         (tr->topic.len <= 0 ||
                                          memcmp(tr->topic.ptr, s->enc_topic_s.ptr, (size_t)tr->topic.len) == 0);
                            else
                                cmp_eq = kp_slice_eq_str(tr->topic, topic);
                        }
                        if (!cmp_eq)
                            continue;
                        kp_part_resp one = { (kp_err)pp->error_code, pp->base_offset, pp->log_append_time,
                                             pp->log_start_offset };
                        kp_s_complete_batch(s, b, &one, resp->node, resp->correlation_id, now, throttle_until);
                        if (!was_done[i])
                            r->batches[i] = NULL; /* completion may have freed it */
                        break;
                    }
                }
            }
            /* A requested partition the answer does not name: treated like a
             * malformed answer (retriable NETWORK_EXCEPTION). 2.1 leaves
             * such a batch to expire at delivery.timeout.ms, and a graceful
             * close then forgets it without a callback; kpsim keeps its
             * promise of exactly one callback per record (a deviation,
             * docs/producer-io.md). */
            kp_part_resp missing = { KP_ERR_NETWORK_EXCEPTION, -1, -1, -1 };
            for (int i = 0; i < r->nbatches; i++) {
                if (!r->batches[i] || was_done[i] || kp_batch_is_done(r->batches[i]))
                    continue;
                kp_s_complete_batch(s, r->batches[i], &missing, resp->node, resp->correlation_id, now,
                                    throttle_until);
                r->batches[i] = NULL; /* completion may have freed it */
            }
            if (s->metrics)
                kp_metrics_record_latency(s->metrics, resp->received_ms - resp->created_ms, now);
        }
    } else {
        /* acks = 0: success without offsets */
        for (int i = 0; i < r->nbatches; i++)
            kp_s_complete_batch(s, r->batches[i], &pr, resp->node, resp->correlation_id, now, 0);
    }
    /* batches failed before this answer (expired in flight) are freed now;
     * a duplicate partition in a malformed answer cannot reach them twice
     * because done() of a finished batch frees nothing */
    for (int i = 0; i < r->nbatches; i++)
        if (was_done[i] && r->batches[i])
            kp_accumulator_deallocate(s->acc, r->batches[i]);
    if (was_done != dsmall)
        free(was_done);
    kp_s_req_put(s, r);
}

/* ------------------------------------------------------------------ */
/* sendProduceRequest                                                  */
/* ------------------------------------------------------------------ */

/* ProduceRequest body v3..v7 (kp_msg_produce.h), written straight from
 * the batches' bytes, topics in first-seen order of the drain:
 *   transactional_id  NULLABLE_STRING
 *   acks              int16
 *   timeout_ms        int32
 *   [topic STRING, [partition int32, record_set BYTES]]               */
typedef struct kp_s_enc {
    kp_sender *s;
    kp_sreq *r;
} kp_s_enc;

/* One partition's entry of a Produce request: its number and its batch's
 * bytes, gathered by reference (see kp_netclient_send). */
static inline bool kp_s_write_partition(kp_writer *w, const kp_batch *b) {
    kp_wr_i32(w, kp_batch_partition(b));
    kp_slice rec = kp_batch_records(b);
    if (rec.len < 0)
        return false;
    kp_wr_bytes_ref(w, rec);
    return true;
}

static bool kp_s_encode_produce(void *ctx, kp_writer *w, int16_t version) {
    (void)version;
    kp_s_enc *e = ctx;
    kp_sender *s = e->s;
    kp_sreq *r = e->r;
    const char *tid = s->tm && kp_txn_is_transactional(s->tm) ? kp_txn_transactional_id(s->tm) : NULL;
    kp_wr_cstring(w, tid);
    kp_wr_i16(w, s->acks);
    kp_wr_i32(w, (int32_t)s->request_timeout_ms);
    /* the common case: every batch of one topic (the same interned name) */
    const char *topic0 = r->nbatches > 0 ? kp_batch_topic(r->batches[0]) : NULL;
    bool one_topic = topic0 != NULL;
    for (int i = 1; i < r->nbatches && one_topic; i++)
        one_topic = kp_batch_topic(r->batches[i]) == topic0;
    if (one_topic) {
        if (topic0 != s->enc_topic) {
            s->enc_topic = topic0;
            s->enc_topic_s = kp_slice_str(topic0);
        }
        kp_wr_array_len(w, 1);
        kp_wr_string(w, s->enc_topic_s);
        kp_wr_array_len(w, r->nbatches);
        for (int j = 0; j < r->nbatches; j++) {
            if (!kp_s_write_partition(w, r->batches[j]))
                return false;
        }
        return true;
    }
    /* count distinct topics, first-seen order */
    int32_t ntopics = 0;
    for (int i = 0; i < r->nbatches; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = kp_s_same_topic(kp_batch_topic(r->batches[j]), kp_batch_topic(r->batches[i]));
        ntopics += !seen;
    }
    kp_wr_array_len(w, ntopics);
    for (int i = 0; i < r->nbatches; i++) {
        const char *topic = kp_batch_topic(r->batches[i]);
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = kp_s_same_topic(kp_batch_topic(r->batches[j]), topic);
        if (seen)
            continue;
        int32_t nparts = 0;
        for (int j = i; j < r->nbatches; j++)
            nparts += kp_s_same_topic(kp_batch_topic(r->batches[j]), topic);
        kp_wr_cstring(w, topic);
        kp_wr_array_len(w, nparts);
        for (int j = i; j < r->nbatches; j++) {
            if (!kp_s_same_topic(kp_batch_topic(r->batches[j]), topic))
                continue;
            if (!kp_s_write_partition(w, r->batches[j]))
                return false;
        }
    }
    return true;
}

/* Sender.sendProduceRequest */
static void kp_s_send_produce_request(kp_sender *s, int32_t node, kp_batch *const *batches, size_t n,
                                      int64_t now) {
    if (n == 0)
        return;
    kp_sreq *r = kp_s_req_get(s);
    if (!r)
        abort();
    r->node = node;
    int32_t records = 0;
    int64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (!kp_s_req_add(r, batches[i]))
            abort();
        records += kp_batch_record_count(batches[i]);
        bytes += kp_batch_records(batches[i]).len;
    }
    kp_s_enc e = { s, r };
    int32_t corr = kp_netclient_send(s->nc, node, KP_API_PRODUCE, KP_PRODUCE_MIN_VERSION, KP_PRODUCE_MAX_VERSION,
                                     kp_s_encode_produce, &e, s->acks != 0, s->request_timeout_ms,
                                     kp_s_handle_produce_response, r, now);
    s->stats.produce_requests++;
    s->stats.batches_sent += n;
    kp_event ev;
    kp_event_init(&ev, KP_EV_PRODUCE_REQUEST, kp_s_now_us(s));
    ev.node = node;
    ev.correlation_id = corr;
    ev.api_key = KP_API_PRODUCE;
    ev.record_count = records;
    ev.bytes = bytes;
    ev.value = (int64_t)n;
    ev.detail = "Sender.sendProduceRequest";
    kp_observer_emit(&s->env.observer, &ev);
    if (corr < 0) {
        /* the node was ready a moment ago (client.ready); a failure here
         * means the frame could not be built: complete as disconnected */
        kp_client_response fake;
        memset(&fake, 0, sizeof fake);
        fake.node = node;
        fake.api_key = KP_API_PRODUCE;
        fake.correlation_id = -1;
        fake.created_ms = now;
        fake.received_ms = now;
        fake.disconnected = true;
        kp_s_handle_produce_response(r, &fake);
    }
}

/* ------------------------------------------------------------------ */
/* sendProducerData                                                    */
/* ------------------------------------------------------------------ */

/* Sender.getExpiredInflightBatches + accumulator.expiredBatches, then
 * failBatch for each (TimeoutException). Both walk only heads, and each
 * head is young (not expired) while now - its creation < dt: when the
 * sender's and the accumulator's bounds on the heads' creation times say
 * every head is young, the walks could expire nothing and would only
 * compute the next expiry time (min over heads + dt), which is then at
 * least bound + dt. Returns false when it skipped them that way (*lb =
 * the bound; the accumulator's next expiry time is then not computed:
 * kp_s_send_producer_data calls again with force when it needs it),
 * true when the next expiry time is exact. */
static void kp_s_expire_walk(kp_sender *s, int64_t now);

static inline bool kp_s_expire(kp_sender *s, int64_t now, bool force, int64_t *lb) {
    if (!force) {
        int64_t acc_lb = kp_accumulator_head_created_lb(s->acc);
        *lb = acc_lb < s->inflight_lb ? acc_lb : s->inflight_lb;
        if (*lb != INT64_MAX && now - *lb < kp_accumulator_delivery_timeout_ms(s->acc))
            return false;
    }
    kp_s_expire_walk(s, now);
    return true;
}

/* the walks themselves (kept out of line: a big frame) */
static void kp_s_expire_walk(kp_sender *s, int64_t now) {
    int64_t dt = kp_accumulator_delivery_timeout_ms(s->acc);
    kp_accumulator_reset_next_batch_expiry_time(s->acc);
    /* in flight first (Java collects them first and appends) — collected
     * into a scratch list so failing one cannot disturb the walk */
    kp_batch *expired_inflight[256];
    int nexp = 0;
    /* A head younger than the timeout (the common case) is only noted for
     * the next expiry time: the earliest-created such head is handed to
     * the accumulator once after the walk, which gives the same minimum
     * as a call per head. An older head goes the full way (its check may
     * still say no: then it is noted directly). */
    int64_t young_min = INT64_MAX;
    for (int i = 0; i < s->ninflight; i++) {
        kp_sinflight *f = &s->inflight[i];
        if (f->n > 0 && nexp < 256 && now - f->head_created < dt) {
            /* kp_batch_has_reached_delivery_timeout would say false */
            if (f->head_created < young_min)
                young_min = f->head_created;
            continue;
        }
        while (f->n > 0 && nexp < 256) {
            kp_batch *b = f->batches[0];
            if (kp_batch_has_reached_delivery_timeout(b, dt, now)) {
                memmove(&f->batches[0], &f->batches[1], (size_t)(f->n - 1) * sizeof f->batches[0]);
                f->n--;
                kp_s_head_changed(f, &s->inflight_lb);
                expired_inflight[nexp++] = b;
            } else {
                kp_accumulator_maybe_update_next_batch_expiry_time(s->acc, b);
                break;
            }
        }
    }
    if (young_min != INT64_MAX)
        kp_accumulator_maybe_update_next_batch_expiry_time_ms(s->acc, young_min);
    s->inflight_lb = INT64_MAX; /* the heads left, exactly */
    for (int i = 0; i < s->ninflight; i++)
        if (s->inflight[i].n > 0 && s->inflight[i].head_created < s->inflight_lb)
            s->inflight_lb = s->inflight[i].head_created;
    kp_batch *const *queued = NULL;
    size_t nq = kp_accumulator_expired_batches(s->acc, now, &queued);
    /* copy: failBatch may call into the accumulator */
    kp_batch *local[256];
    size_t nl = nq < 256 ? nq : 256;
    for (size_t i = 0; i < nl; i++)
        local[i] = queued[i];
    for (size_t i = 0; i < nl + (size_t)nexp; i++) {
        kp_batch *b = i < nl ? local[i] : expired_inflight[i - nl];
        char msg[200];
        snprintf(msg, sizeof msg, "Expiring %d record(s) for %s-%d:%" PRId64 " ms has passed since batch creation",
                 (int)kp_batch_record_count(b), kp_batch_topic(b), (int)kp_batch_partition(b),
                 now - kp_batch_created_ms(b));
        bool in_retry = kp_batch_in_retry(b);
        s->stats.expired++;
        kp_s_emit_batch(s, KP_EV_SENDER_EXPIRED, b, KP_ERR__TIMED_OUT, -1, -1, -1, now - kp_batch_created_ms(b),
                        i < nl ? "Sender.sendProducerData: expired in the accumulator"
                               : "Sender.getExpiredInflightBatches");
        const char *topic = kp_batch_topic(b);
        int32_t partition = kp_batch_partition(b);
        /* (KAFKA-8325: a split big batch left here has no final state, so
         * this fires its records' callbacks a second time) */
        kp_s_fail_batch(s, b, -1, -1, KP_ERR__TIMED_OUT, msg, false, now);
        if (s->tm && in_retry)
            kp_txn_mark_sequence_unresolved(s->tm, topic, partition);
    }
}

/* only iterations that did something: idle loops stay out of traces */
static void kp_s_emit_poll_timeout(kp_sender *s, int64_t poll_timeout, size_t batches) {
    kp_event ev;
    kp_event_init(&ev, KP_EV_SENDER_POLL_TIMEOUT, 0);
    ev.value = poll_timeout;
    ev.record_count = (int32_t)batches;
    ev.detail = "Sender.sendProducerData";
    ev.time_us = kp_s_now_us(s); /* last: nothing else live across a clock call */
    kp_observer_emit(&s->env.observer, &ev);
}

/* sendProducerData's poll timeout when no node was ready to drain (with
 * a ready node it is 0): the next ready check, a not-ready node's delay
 * and the next expiry, at least 0. expiry_exact and head_lb as
 * kp_s_expire gave them. */
static inline int64_t kp_s_poll_timeout(kp_sender *s, int64_t now, int64_t ready_delay, int64_t not_ready_timeout,
                                        bool expiry_exact, int64_t head_lb) {
    int64_t poll_timeout = ready_delay < not_ready_timeout ? ready_delay : not_ready_timeout;
    /* Skipped walks leave the next expiry time unknown but at least
     * head_lb + dt (INT64_MAX when that overflows: maybeUpdate skips such
     * times): it can only matter when that is sooner than the timeout so
     * far. Nothing can have expired since the call before (same now). */
    if (!expiry_exact) {
        int64_t dt = kp_accumulator_delivery_timeout_ms(s->acc);
        if (head_lb <= INT64_MAX - dt && head_lb + dt - now < poll_timeout)
            expiry_exact = kp_s_expire(s, now, true, &head_lb);
    }
    int64_t next_expiry = expiry_exact ? kp_accumulator_next_expiry_time_ms(s->acc) : INT64_MAX;
    if (next_expiry != INT64_MAX && next_expiry - now < poll_timeout)
        poll_timeout = next_expiry - now;
    return poll_timeout < 0 ? 0 : poll_timeout;
}

static int64_t kp_s_send_producer_data(kp_sender *s, int64_t now) {
    const kp_cluster *cl = kp_metadata_fetch(s->md);
    kp_ready_result rr;
    kp_accumulator_ready(s->acc, cl, now, &rr);

    /* unknown leaders: add the topics and request a metadata update */
    if (rr.unknown_leader_count > 0) {
        for (size_t i = 0; i < rr.unknown_leader_count; i++)
            kp_metadata_add(s->md, rr.unknown_leader_topics[i], now);
        kp_metadata_request_update(s->md, now);
    }

    /* remove nodes the client is not ready to send to */
    int32_t ready[KP_NC_MAX_NODES];
    size_t nready = 0;
    int64_t not_ready_timeout = INT64_MAX;
    for (size_t i = 0; i < rr.ready_count && nready < KP_NC_MAX_NODES; i++) {
        const kp_node *node = kp_cluster_node_by_id(cl, rr.ready_nodes[i]);
        if (node && kp_netclient_ready(s->nc, node, now)) {
            ready[nready++] = rr.ready_nodes[i];
        } else {
            int64_t d = kp_netclient_poll_delay(s->nc, rr.ready_nodes[i], now);
            if (d < not_ready_timeout)
                not_ready_timeout = d;
        }
    }

    if (nready == 0) {
        /* nothing to drain (most runs): what follows reduces to the expiry
         * and the timeout (no batch added, muted, recorded or sent; a
         * batch failed by the expiry is in no request being built) */
        int64_t head_lb = INT64_MAX;
        bool expiry_exact = kp_s_expire(s, now, false, &head_lb);
        int64_t poll_timeout =
            kp_s_poll_timeout(s, now, rr.next_ready_check_delay_ms, not_ready_timeout, expiry_exact, head_lb);
        if (rr.ready_count != 0)
            kp_s_emit_poll_timeout(s, poll_timeout, 0);
        return poll_timeout;
    }
    kp_drain_result dr;
    kp_accumulator_drain(s->acc, cl, ready, nready, s->max_request_size, now, &dr);
    for (size_t i = 0; i < dr.node_count; i++)
        for (size_t j = 0; j < dr.nodes[i].count; j++)
            kp_s_add_inflight(s, dr.nodes[i].batches[j]);
#ifdef KP_MUTANT_NO_MUTE /* mutant (tests/mutants): max.in.flight=1 no longer mutes a drained partition */
    if (0)
#else
    if (s->guarantee_order)
#endif
        for (size_t i = 0; i < dr.node_count; i++)
            for (size_t j = 0; j < dr.nodes[i].count; j++)
                kp_accumulator_mute_partition(s->acc, kp_batch_topic(dr.nodes[i].batches[j]),
                                              kp_batch_partition(dr.nodes[i].batches[j]), now);

    /* the drain result is only valid until the next drain: expiry does
     * not drain, so it stays valid through the sends below */
    s->sending = &dr;
    int64_t head_lb = INT64_MAX;
    (void)kp_s_expire(s, now, false, &head_lb); /* the timeout is 0 whatever it finds next */

    if (s->metrics) {
        for (size_t i = 0; i < dr.node_count; i++) {
            int32_t records = 0;
            for (size_t j = 0; j < dr.nodes[i].count; j++) {
                kp_batch *b = dr.nodes[i].batches[j];
                const char *topic = kp_batch_topic(b);
                if (topic != s->m_topic) {
                    s->m_topic = topic;
                    s->m_hint = KP_HINT_NONE;
                }
                kp_metrics_record_batch_h(s->metrics, topic, &s->m_hint, kp_batch_record_count(b),
                                        kp_batch_estimated_size(b), kp_batch_compression_ratio(b),
                                        kp_batch_queue_time_ms(b), kp_batch_max_record_size(b), now);
                records += kp_batch_record_count(b);
            }
            if (dr.nodes[i].count)
                kp_metrics_record_request(s->metrics, records, now);
        }
    }

    /* a node was ready: poll without waiting */
    int64_t poll_timeout = 0;

    for (size_t i = 0; i < dr.node_count; i++)
        kp_s_send_produce_request(s, dr.nodes[i].node, dr.nodes[i].batches, dr.nodes[i].count, now);
    s->sending = NULL;

    if (dr.batch_count > 0 || nready != rr.ready_count)
        kp_s_emit_poll_timeout(s, poll_timeout, dr.batch_count);
    return poll_timeout;
}

/* ------------------------------------------------------------------ */
/* InitProducerId (maybeWaitForProducerId, without blocking)           */
/* ------------------------------------------------------------------ */

/* InitProducerId request v0..v1 (kp_msg_txn.h):
 *   OFFSET SIZE DESCRIPTION
 *   0      2    transactional_id length (-1 = null: idempotent only)
 *   2      4    transaction_timeout_ms (INT32_MAX)                      */
static bool kp_s_encode_init_pid(void *ctx, kp_writer *w, int16_t version) {
    (void)ctx;
    (void)version;
    kp_wr_i16(w, -1);
    kp_wr_i32(w, INT32_MAX);
    return true;
}

static void kp_s_pid_backoff(kp_sender *s, int64_t now) {
    s->pid_backoff_until = now + s->retry_backoff_ms;
    kp_metadata_request_update(s->md, now);
}

static void kp_s_init_pid_done(void *ctx, const kp_client_response *resp) {
    kp_sender *s = ctx;
    int64_t now = resp->received_ms;
    s->pid_in_flight = false;
    kp_event ev;
    kp_event_init(&ev, KP_EV_INIT_PRODUCER_ID, kp_s_now_us(s));
    ev.node = resp->node;
    ev.correlation_id = resp->correlation_id;
    ev.api_key = KP_API_INIT_PRODUCER_ID;
    if (s->aborted)
        return;
    if (resp->version_mismatch) {
        ev.err = KP_ERR_UNSUPPORTED_VERSION;
        ev.detail = "InitProducerId: unsupported version";
        kp_observer_emit(&s->env.observer, &ev);
        kp_txn_transition_to_fatal_error(s->tm, KP_ERR_UNSUPPORTED_VERSION);
        return;
    }
    if (resp->disconnected || !resp->body) {
        ev.err = KP_ERR_NETWORK_EXCEPTION;
        ev.detail = "Broker disconnected while awaiting InitProducerId response";
        kp_observer_emit(&s->env.observer, &ev);
        kp_s_pid_backoff(s, now);
        return;
    }
    kp_arena_reset(s->arena);
    kp_reader rd;
    kp_rd_init(&rd, resp->body, resp->body_len);
    kp_init_producer_id_response m;
    memset(&m, 0, sizeof m);
    kp_err derr = kp_init_producer_id_response_decode(&rd, resp->api_version, s->arena, &m);
    kp_err err = derr != KP_ERR_NONE ? KP_ERR_NETWORK_EXCEPTION : (kp_err)m.error_code;
    ev.err = err;
    ev.producer_id = m.producer_id;
    ev.producer_epoch = m.producer_epoch;
    ev.detail = "Sender.maybeWaitForProducerId: InitProducerId response";
    kp_observer_emit(&s->env.observer, &ev);
    if (derr == KP_ERR_NONE && resp->api_version >= 1 && m.throttle_time_ms > 0)
        kp_netclient_throttle(s->nc, resp->node, m.throttle_time_ms, now); /* KIP-219, v1+ */
    if (err == KP_ERR_NONE) {
        kp_txn_set_producer_id_and_epoch(s->tm, (kp_pid_epoch){ m.producer_id, m.producer_epoch });
    } else if (kp_err_is_retriable(err)) {
        kp_s_pid_backoff(s, now);
    } else {
        kp_txn_transition_to_fatal_error(s->tm, err);
    }
}

static void kp_s_maybe_wait_for_producer_id(kp_sender *s, int64_t now) {
    if (kp_txn_has_producer_id(s->tm) || kp_txn_has_error(s->tm) || s->pid_in_flight)
        return;
    if (now < s->pid_backoff_until)
        return;
    kp_node node;
    if (!kp_netclient_least_loaded_node(s->nc, now, &node)) {
        /* "Could not find an available broker to send InitProducerIdRequest
         * to. We will back off and try again." */
        kp_s_pid_backoff(s, now);
        return;
    }
    if (!kp_netclient_ready(s->nc, &node, now))
        return; /* awaitReady: the connection progresses in client.poll */
    int32_t corr = kp_netclient_send(s->nc, node.id, KP_API_INIT_PRODUCER_ID, KP_INIT_PRODUCER_ID_MIN_VERSION,
                                     KP_INIT_PRODUCER_ID_MAX_VERSION, kp_s_encode_init_pid, NULL, true,
                                     s->request_timeout_ms, kp_s_init_pid_done, s, now);
    if (corr < 0) {
        kp_s_pid_backoff(s, now);
        return;
    }
    s->pid_in_flight = true;
    s->stats.init_producer_id++;
    kp_event ev;
    kp_event_init(&ev, KP_EV_INIT_PRODUCER_ID, kp_s_now_us(s));
    ev.node = node.id;
    ev.correlation_id = corr;
    ev.api_key = KP_API_INIT_PRODUCER_ID;
    ev.detail = "Sender.maybeWaitForProducerId: InitProducerId sent";
    kp_observer_emit(&s->env.observer, &ev);
}

/* Sender.maybeAbortBatches. abortBatches frees every incomplete batch,
 * in flight ones included (Java's GC kept those alive for the requests
 * still out): first the requests, the in-flight lists and the transaction
 * manager let go of them, so late answers find nothing to touch. */
static void kp_s_maybe_abort_batches(kp_sender *s, kp_err err) {
    if (!kp_accumulator_has_incomplete(s->acc))
        return;
    for (int i = 0; i < s->nreqs; i++)
        if (s->reqs[i]->live)
            s->reqs[i]->nbatches = 0;
    for (int i = 0; i < s->ninflight; i++) {
        s->inflight[i].n = 0;
        kp_s_head_changed(&s->inflight[i], &s->inflight_lb);
    }
    if (s->tm)
        kp_txn_forget_in_flight_batches(s->tm);
    /* in-flight batches go back to the pool while their requests live:
     * the transport must not read them in place any more */
    kp_netclient_reclaim(s->nc);
    kp_accumulator_abort_batches(s->acc, err, kp_err_desc(err));
}

/* ------------------------------------------------------------------ */
/* the run loop                                                         */
/* ------------------------------------------------------------------ */

/* Sender.maybeSendTransactionalRequest: true when a transactional request
 * is pending or was sent (the Sender then only polls the network); *wait
 * is how long it may sleep. Java blocks its I/O thread in awaitReady and in
 * time.sleep(retryBackoffMs) before a retry; here a handler that may not
 * go yet is given back with its place kept, and run() polls meanwhile —
 * produce data waits exactly as long as it does in Java. */
static bool kp_s_maybe_send_transactional_request(kp_sender *s, int64_t now, int64_t *wait) {
    kp_txn_manager *tm = s->tm;
    *wait = s->retry_backoff_ms;
    if (kp_txn_is_completing(tm) && kp_accumulator_has_incomplete(s->acc)) {
        if (kp_txn_is_aborting(tm))
            kp_accumulator_abort_undrained_batches(s->acc, KP_ERR__ABORTED,
                                                   "Failing batch since transaction was aborted");
        /* batches in retry must be resent until their fate is clear, or
         * the sequence numbers would no longer be right */
        if (!kp_accumulator_flush_in_progress(s->acc))
            kp_accumulator_begin_flush(s->acc, now);
    }
    kp_txn_handler *h = kp_txn_next_request_handler(tm, kp_accumulator_has_incomplete(s->acc));
    if (!h)
        return false;
    if (s->force_close) {
        kp_txn_requeue(tm, h);
        return true;
    }
    int64_t nb = kp_txn_handler_not_before(h);
    if (nb > now) {
        kp_txn_requeue(tm, h); /* time.sleep(retryBackoffMs) */
        *wait = nb - now;
        return true;
    }
    kp_node node;
    if (kp_txn_handler_needs_coordinator(h)) {
        if (!kp_txn_coordinator(tm, &node)) {
            kp_txn_lookup_coordinator(tm);
            kp_txn_requeue(tm, h);
            *wait = 0;
            return true;
        }
        if (!kp_netclient_ready(s->nc, &node, now)) {
            int64_t d = kp_netclient_connection_delay(s->nc, node.id, now);
            if (d != INT64_MAX) {
                /* awaitReady failed (the connection broke or is backing
                 * off): the coordinator may have moved */
                kp_txn_lookup_coordinator(tm);
                kp_txn_retry(tm, h);
            } else {
                kp_txn_requeue(tm, h); /* connecting: client.poll advances it */
            }
            return true;
        }
    } else {
        /* awaitLeastLoadedNodeReady */
        if (!kp_netclient_least_loaded_node(s->nc, now, &node)) {
            kp_metadata_request_update(s->md, now);
            kp_txn_retry(tm, h);
            return true;
        }
        if (!kp_netclient_ready(s->nc, &node, now)) {
            kp_txn_requeue(tm, h);
            return true;
        }
    }
    int16_t api = kp_txn_handler_api_key(h);
    int32_t corr = kp_netclient_send(s->nc, node.id, api, kp_txn_handler_min_version(h),
                                     kp_txn_handler_max_version(h), kp_txn_handler_encode, h, true,
                                     s->request_timeout_ms, kp_txn_handler_on_complete, h, now);
    if (corr < 0) {
        if (kp_txn_handler_needs_coordinator(h))
            kp_txn_lookup_coordinator(tm);
        kp_txn_retry(tm, h);
        kp_metadata_request_update(s->md, now);
        return true;
    }
    kp_event ev;
    kp_event_init(&ev, KP_EV_TXN_REQUEST, kp_s_now_us(s));
    ev.node = node.id;
    ev.correlation_id = corr;
    ev.api_key = api;
    ev.detail = kp_txn_handler_name(h);
    kp_observer_emit(&s->env.observer, &ev);
    kp_txn_handler_sent(tm, h, corr);
    return true;
}

/* client.poll, returning 0 when it completed something (Java's selector
 * returns early on I/O and the loop goes round at once). */
static int64_t kp_s_client_poll(kp_sender *s, int64_t timeout, int64_t now) {
    /* fewer in flight after the poll: something completed (then there
     * were some before, as has_in_flight would have said) */
    int before_n = kp_netclient_in_flight_count(s->nc);
    int64_t sleep = kp_netclient_poll(s->nc, timeout, now);
    if (kp_netclient_in_flight_count(s->nc) < before_n)
        return 0;
    return sleep;
}

/* Sender.run(now) */
static int64_t kp_s_run(kp_sender *s, int64_t now) {
    /* every step below a no-op for an idempotent producer at rest: one test */
    if (s->tm && !kp_txn_sender_idle(s->tm)) {
        if (kp_txn_should_reset_producer_state_after_resolving_sequences(s->tm)) {
            kp_txn_reset_producer_id(s->tm, "Sender.run: unresolved sequences cannot be resolved");
            s->stats.producer_id_resets++;
        }
        int64_t txn_wait;
        if (!kp_txn_is_transactional(s->tm)) {
            kp_s_maybe_wait_for_producer_id(s, now);
        } else if (kp_txn_has_unresolved_sequences(s->tm) && !kp_txn_has_fatal_error(s->tm)) {
            /* "The client hasn't received acknowledgment for some previously
             * sent messages and can no longer retry them." */
            kp_txn_transition_to_fatal_error(s->tm, KP_ERR__FATAL);
        } else if (kp_txn_has_in_flight_transactional_request(s->tm)) {
            return kp_s_client_poll(s, s->retry_backoff_ms, now);
        } else if (kp_s_maybe_send_transactional_request(s, now, &txn_wait)) {
            /* as long as there are outstanding transactional requests,
             * simply wait for them to return */
            return kp_s_client_poll(s, txn_wait, now);
        }
        if (kp_txn_has_fatal_error(s->tm) || !kp_txn_has_producer_id(s->tm)) {
            kp_err last = kp_txn_last_error(s->tm);
            if (last != KP_ERR_NONE)
                kp_s_maybe_abort_batches(s, last);
            int64_t t = s->retry_backoff_ms;
            if (!kp_txn_has_producer_id(s->tm) && !kp_txn_has_error(s->tm) && !s->pid_in_flight &&
                s->pid_backoff_until > now && s->pid_backoff_until - now < t)
                t = s->pid_backoff_until - now;
            return kp_s_client_poll(s, t, now);
        } else if (kp_txn_has_abortable_error(s->tm)) {
            kp_accumulator_abort_undrained_batches(s->acc, kp_txn_last_error(s->tm),
                                                   kp_err_desc(kp_txn_last_error(s->tm)));
        }
    }
    int64_t poll_timeout = kp_s_send_producer_data(s, now);
    return kp_s_client_poll(s, poll_timeout, now);
}

/* The shutdown half of Sender.run(): after the loop stops running. */
static void kp_s_finish(kp_sender *s, int64_t now) {
    if (s->force_close) {
        s->aborted = true;
        kp_netclient_close(s->nc, now); /* callbacks only free already-failed batches */
        kp_accumulator_abort_incomplete_batches(s->acc, KP_ERR__ABORTED, "Producer is closed forcefully.");
    } else {
        kp_netclient_close(s->nc, now);
        /* A graceful close ends when nothing is undrained and no request is
         * live; a batch still incomplete then (listed in flight, its request
         * gone without an answer for it) is failed here rather than
         * forgotten: one callback per record, always. */
        if (kp_accumulator_has_incomplete(s->acc))
            kp_accumulator_abort_incomplete_batches(s->acc, KP_ERR__ABORTED,
                                                    "Producer closed with the batch still unanswered.");
    }
    /* anything still listed in flight is gone now */
    for (int i = 0; i < s->ninflight; i++) {
        s->inflight[i].n = 0;
        kp_s_head_changed(&s->inflight[i], &s->inflight_lb);
    }
    s->closed = true;
    kp_event ev;
    kp_event_init(&ev, KP_EV_CLOSED, kp_s_now_us(s));
    ev.detail = s->force_close ? "Sender: forced shutdown complete" : "Sender: shutdown complete";
    kp_observer_emit(&s->env.observer, &ev);
}

int64_t kp_sender_run_once(kp_sender *s, int64_t now) {
    if (s->closed)
        return INT64_MAX;
    if (s->running)
        return kp_s_run(s, now);
    /* okay we stopped accepting requests but there may still be requests
     * in the accumulator or waiting for a response */
    if (!s->force_close &&
        (kp_accumulator_has_undrained(s->acc) || kp_netclient_in_flight_count(s->nc) > 0)) {
        int64_t t = kp_s_run(s, now);
        if (kp_accumulator_has_undrained(s->acc) || kp_netclient_in_flight_count(s->nc) > 0)
            return t;
    }
    kp_s_finish(s, now);
    return INT64_MAX;
}

/* ------------------------------------------------------------------ */
/* public                                                              */
/* ------------------------------------------------------------------ */

static int kp_s_gauge_inflight(void *ctx) {
    return kp_netclient_in_flight_count(((kp_sender *)ctx)->nc);
}
static int64_t kp_s_gauge_md(void *ctx) {
    return kp_metadata_last_successful_update(((kp_sender *)ctx)->md);
}

kp_sender *kp_sender_new(const kp_sender_deps *d) {
    kp_sender *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->arena = kp_arena_new(0, 0);
    if (!s->arena) {
        free(s);
        return NULL;
    }
    s->cfg = d->cfg;
    s->acc = d->acc;
    s->md = d->md;
    s->nc = d->nc;
    s->tm = d->tm;
    s->metrics = d->metrics;
    s->env = *d->env;
    s->guarantee_order = d->cfg->max_in_flight == 1;
    s->acks = d->cfg->acks;
    s->retries = d->cfg->retries;
    s->max_request_size = d->cfg->max_request_size;
    s->request_timeout_ms = d->cfg->request_timeout_ms;
    s->retry_backoff_ms = d->cfg->retry_backoff_ms;
    s->inflight_lb = INT64_MAX;
    s->running = true;
    if (s->metrics) {
        kp_metrics_gauges g = { kp_s_gauge_inflight, kp_s_gauge_md, s };
        kp_metrics_set_gauges(s->metrics, &g);
    }
    return s;
}

void kp_sender_destroy(kp_sender *s) {
    if (!s)
        return;
    for (int i = 0; i < s->ninflight; i++)
        free(s->inflight[i].batches);
    free(s->inflight);
    for (int i = 0; i < s->nreqs; i++) {
        free(s->reqs[i]->batches);
        free(s->reqs[i]);
    }
    free(s->reqs);
    kp_arena_destroy(s->arena);
    free(s);
}

void kp_sender_wakeup(kp_sender *s) {
    kp_netclient_wakeup(s->nc);
}

void kp_sender_initiate_close(kp_sender *s) {
    kp_accumulator_close(s->acc);
    s->running = false;
    kp_sender_wakeup(s);
}

void kp_sender_force_close(kp_sender *s) {
    s->force_close = true;
    kp_sender_initiate_close(s);
}

bool kp_sender_is_running(const kp_sender *s) { return s->running; }
bool kp_sender_is_closed(const kp_sender *s) { return s->closed; }

int kp_sender_in_flight_batches(const kp_sender *s) {
    int n = 0;
    for (int i = 0; i < s->ninflight; i++)
        n += s->inflight[i].n;
    return n;
}

void kp_sender_stats_get(const kp_sender *s, kp_sender_stats *out) {
    *out = s->stats;
}
