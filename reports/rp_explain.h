/*
 * rp_explain.h — the building blocks of `kpsim explain`: pick out of a
 * trace the events that concern one record (or one batch), and tell them as
 * sentences from a per-language phrasebook keyed by kind NAME.
 *
 * Selection (rp_explain_select_record / _batch), within one producer:
 *   1. record K: the record-level events (kind roles SEND, APPEND, CALLBACK
 *      in rp_kinds.h) of record K (record numbers: rp_internal.h); their
 *      batches start the chain; the "send window" (the producer's events
 *      between send and append of K: waitOnMetadata, the partitioner, the
 *      metadata request it caused) is taken too. For a batch: the chain
 *      starts with that batch;
 *   2. split pieces: for a record, the pieces on the way from its append
 *      batch to the batch of its callback; for a batch (or a record that has
 *      no callback), every piece whose parent is in the chain, until
 *      nothing changes;
 *   3. requests: every (node, correlation_id) named by an event that also
 *      names a batch of the chain, or taken in the send window; log
 *      positions: (partition, base offset) of the chain's acked batches;
 *   4. selected: events of a batch of the chain (record-level events of
 *      OTHER records excluded), events of those requests (the producer's and
 *      the broker's), the broker's append at those log positions;
 *   5. context: what doSend did right after the append (the sender's
 *      wakeup), the last `ready` of a node before each drain, the followers'
 *      replication and the high watermark passing the end of each broker
 *      append, and the faults and this producer's metadata refresh requests
 *      between the first and the last selected event.
 *
 * Narration (rp_explain_print): one numbered line per selected event,
 *   "N. TIME ms  Java.method  sentence"
 * from the phrasebook entry of the event's kind name (the part after the
 * last '.'; entries of broker, net and harness kinds are written
 * "broker.NAME", "net.NAME", "harness.NAME", producer kinds plain); a fault
 * kind without its own entry uses the entry "fault"; anything else the
 * book's fallback. Templates name fields in
 * braces — {time} {kind} {component} {node} {topic} {partition} {batch}
 * {base_seq} {records} {bytes} {corr} {api} {err} {attempt} {offset} {pid}
 * {epoch} {value} {detail} {record} — and a [bracketed part] is left out
 * when a field inside it does not apply. Books: "en" and "zh".
 *
 * Memory: selections are malloc'ed (rp_explain_sel_free); phrasebooks are
 * static.
 */
#ifndef RP_EXPLAIN_H
#define RP_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rp_trace.h"

typedef struct rp_explain_sel {
    size_t *ix;         /* indexes into t->events, ascending */
    int64_t *record_of; /* per selected event: the record it concerns, or -1 */
    size_t n;
    int64_t *batches;   /* the chain: first batch(es), then split pieces */
    size_t n_batches;
    int64_t record;     /* -1 when selected by batch */
} rp_explain_sel;

/* 0, or -1 when out of memory. An unknown record gives an empty selection.
 * `producer` names the producer when a trace has several (the scope: the
 * component prefix, e.g. "producer-2"); NULL = the first that sent (for a
 * batch: the first that names it). Record numbers are per producer, in send
 * order from 0 (see rp_internal.h, "Record numbers"). */
int rp_explain_select_record(const rp_trace *t, const char *producer, int64_t record,
                             rp_explain_sel *out);
int rp_explain_select_batch(const rp_trace *t, const char *producer, int64_t batch_id,
                            rp_explain_sel *out);
void rp_explain_sel_free(rp_explain_sel *s);

typedef struct rp_phrase {
    const char *kind_name; /* "batch_created", "broker.append"; "fault": faults without their own */
    const char *java;      /* the Java method it mirrors, e.g. "RecordAccumulator.append" */
    const char *text;      /* template, see above */
} rp_phrase;

typedef struct rp_phrasebook {
    const char *lang;            /* "en", "zh" */
    const rp_phrase *phrases;
    size_t n;
    const char *fallback;        /* template for kinds without an entry */
    const char *title_record;    /* "{scenario}", "{seed}", "{record}" placeholders */
    const char *title_batch;     /* "{scenario}", "{seed}", "{batch}" */
    const char *nothing;         /* when the selection is empty */
} rp_phrasebook;

/* "en" or "zh"; NULL for another language. */
const rp_phrasebook *rp_phrasebook_get(const char *lang);

/* Tells the selection. */
void rp_explain_print(FILE *out, const rp_trace *t, const rp_explain_sel *sel,
                      const rp_phrasebook *pb);

/* One sentence for one event (no number, no time), e.g. for other tools. */
void rp_explain_sentence(FILE *out, const rp_trace *t, const rp_event *e, const rp_phrasebook *pb,
                         int64_t record);

#endif
