/*
 * rp_fixture.h — a synthetic but realistic trace for reports/ tests, written
 * before the real runner exists: 2 brokers, topic "orders" with 2
 * partitions, 40 records in batches of up to 5 (linger 5 ms), and three
 * stories on the side:
 *   - a link fault at 150 ms: the request in flight to broker 2 times out,
 *     the batch is retried after a metadata refresh and a leader move, and
 *     goes to broker 1;
 *   - a MESSAGE_TOO_LARGE response: the batch is split in two pieces
 *     (split events carry the parent batch id in `value`), both acked;
 *   - a batch that expires (delivery.timeout.ms): failed callbacks.
 * Deterministic: no randomness, no clock; the same calls every time.
 */
#ifndef RP_FIXTURE_H
#define RP_FIXTURE_H

#include "rp_trace.h"

#define RP_FIXTURE_RECORDS 40

/* Registers the fixture's kinds, writes header, events and summary. */
kp_err rp_fixture_write(rp_trace_writer *w);

/* Kind numbers the fixture uses (names in rp_fixture.c). */
enum {
    FX_SEND = 100, FX_APPEND, FX_BATCH_CREATED, FX_BATCH_DRAINED, FX_REQUEST_SENT,
    FX_RESPONSE, FX_BATCH_COMPLETED, FX_BATCH_FAILED, FX_CALLBACK, FX_RETRY, FX_SPLIT,
    FX_METADATA, FX_EXPIRED, FX_BUF_ALLOC, FX_BUF_FREE, FX_WAKEUP, FX_READY, FX_REQ_TIMEOUT,
    FX_BROKER_PRODUCE = 200, FX_BROKER_APPEND,
    FX_FAULT_LINK_DOWN = 300, FX_LINK_UP,
    FX_LEADER_MOVE = 400
};



/* The fixture as bytes (malloc'ed, *len set) and loaded in memory. */
char *rp_fixture_bytes(size_t *len);
rp_trace *rp_fixture_trace(void);
#endif
