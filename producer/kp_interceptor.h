/*
 * kp_interceptor.h — ProducerInterceptors (kafka-clients 2.1.1).
 *
 * An ordered chain of interceptors. onSend runs before serialization and
 * may replace the record (each interceptor sees the previous one's
 * output); onAcknowledgement runs when a record is acknowledged or fails
 * (also onSendError: a send that failed before reaching the accumulator).
 * As in Java, an interceptor's failure is logged (here: counted and
 * reported as KP_EV_INTERCEPTOR_ERROR) and ignored: onSend then goes on
 * with the record as it was before that interceptor.
 *
 * Built-ins (interceptor.classes names):
 *   counting   counts onSend, acknowledgements without / with error
 *   modifying  appends "-intercepted" to a STRING or BYTES value
 *   throwing   fails every onSend and onAcknowledgement
 * plus user interceptors added with kp_interceptors_add.
 *
 * Memory: the chain owns the built-ins' state; a modified record's value
 * lives in the modifying interceptor's buffer, valid until its next onSend
 * (the facade serializes right after onSend). The buffer grows (doubling)
 * to the largest value seen, so steady state does not allocate.
 */
#ifndef KP_INTERCEPTOR_H
#define KP_INTERCEPTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "kp_batch.h"
#include "kp_config.h"
#include "kp_env.h"
#include "kp_serializer.h"

/* ProducerRecord as interceptors see it (before serialization). */
typedef struct kp_producer_record {
    const char *topic;
    int32_t partition;       /* -1: none */
    int64_t timestamp;       /* -1: none (the facade uses now) */
    kp_datum key;
    kp_datum value;
    const kp_header *headers;
    int header_count;
} kp_producer_record;

typedef struct kp_interceptor_ops {
    const char *name;
    /* Writes the (possibly new) record into *out (pre-filled with a copy of
     * *in). Non-zero return = the interceptor threw. */
    kp_err (*on_send)(void *ctx, const kp_producer_record *in, kp_producer_record *out);
    /* md is never NULL (offset -1 on error); err KP_ERR_NONE on success. */
    kp_err (*on_ack)(void *ctx, const kp_record_metadata *md, kp_err err);
    void (*destroy)(void *ctx); /* may be NULL */
} kp_interceptor_ops;

typedef struct kp_interceptors kp_interceptors;

/* Builds the chain from interceptor.classes (cfg may be NULL: empty).
 * obs may be NULL. */
kp_interceptors *kp_interceptors_new(const kp_config *cfg, const kp_observer *obs);
void kp_interceptors_destroy(kp_interceptors *ic); /* NULL ok */
/* Appends a user interceptor (ops borrowed, ctx owned only if ops->destroy). */
kp_err kp_interceptors_add(kp_interceptors *ic, const kp_interceptor_ops *ops, void *ctx);
int kp_interceptors_count(const kp_interceptors *ic);
/* The chain's length in place, valid as long as ic (kp_interceptors_add
 * updates it): the producer reads it on every send and acknowledgement
 * instead of calling kp_interceptors_count. */
const int *kp_interceptors_count_ref(const kp_interceptors *ic);

/* ProducerInterceptors.onSend: *out = the intercepted record. */
void kp_interceptors_on_send(kp_interceptors *ic, const kp_producer_record *in,
                             kp_producer_record *out, int64_t now);
/* ProducerInterceptors.onAcknowledgement. */
void kp_interceptors_on_ack(kp_interceptors *ic, const kp_record_metadata *md, kp_err err,
                            int64_t now);
/* ProducerInterceptors.onSendError: onAcknowledgement with metadata
 * (topic, partition or -1, offset -1) and the error. */
void kp_interceptors_on_send_error(kp_interceptors *ic, const kp_producer_record *rec,
                                   int32_t partition, kp_err err, int64_t now);

/* Failures swallowed so far (onSend + onAck). */
uint64_t kp_interceptors_errors(const kp_interceptors *ic);
/* The counting built-in's numbers (summed over counting interceptors);
 * false if the chain has none. */
bool kp_interceptors_counts(const kp_interceptors *ic, uint64_t *sends, uint64_t *acks,
                            uint64_t *ack_errors);

#endif
