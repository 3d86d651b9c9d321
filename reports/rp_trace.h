/*
 * rp_trace.h — writing and reading kpsim trace files (reports/trace.proto).
 *
 * The harness writes a trace while a run goes: open a writer, register the
 * event kinds every layer reports (number, name, layer, component), write
 * the header, then one call per kp_event, then the summary, then close. The
 * writer streams: it packs each record into one reused buffer and hands full
 * buffers to stdio, so memory stays bounded and no event costs a malloc.
 *
 * The readers come in two shapes:
 *   - rp_trace_reader: streaming, one record at a time, bounded memory
 *     (`kpsim trace --format text|json`);
 *   - rp_trace: the whole trace loaded in memory with interned strings
 *     (Perfetto spans, report charts, explain need several passes).
 * Both refuse malformed input with a message naming the byte offset of the
 * frame at fault; neither trusts a length.
 *
 * Framing and field conventions: see the comment at the top of trace.proto.
 *
 * Ownership:
 *   - writer: every string passed in is borrowed for the duration of the call
 *     (kinds and the header are copied/packed at once); the writer owns its
 *     buffer and, when opened by path, its FILE.
 *   - reader: the header, the summary and each event returned point into the
 *     reader's memory. The header stays valid until rp_trace_reader_close;
 *     an event until the next rp_trace_reader_next; the summary until close.
 *   - rp_trace: everything it points to lives until rp_trace_free.
 *
 * Determinism: the writer takes no clock, writes no pointers and no padding;
 * sequence numbers are assigned by the writer (0, 1, 2, ...). Same calls ⇒
 * same bytes.
 */
#ifndef RP_TRACE_H
#define RP_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kp_env.h"
#include "kp_err.h"

#define RP_TRACE_MAGIC "kpsim-trace"
#define RP_TRACE_FORMAT_VERSION 1u
#define RP_TRACE_MAX_FRAME (16u * 1024u * 1024u) /* bytes, per trace.proto */

/* ------------------------------------------------------------------ */
/* Plain-C mirror of the messages                                      */
/* ------------------------------------------------------------------ */

typedef struct rp_kv {
    const char *key;
    const char *value;
} rp_kv;

typedef struct rp_kind_def {
    int32_t kind;          /* KP_EV_BASE_* + n */
    const char *name;      /* "batch_created" */
    const char *layer;     /* "producer", "broker", "net", "harness" (may be NULL) */
    const char *component; /* default component of its events (may be NULL) */
} rp_kind_def;

typedef struct rp_component_def {
    const char *name;      /* "sender", "broker 1", "link client->1" */
    const char *role;      /* "producer", "broker", "link", "harness" (may be NULL) */
    int32_t node;          /* -1 when none */
} rp_component_def;

typedef struct rp_trace_header {
    uint32_t format_version;      /* writer: ignored (always 1); reader: as read */
    const char *kpsim_version;
    const char *scenario;
    const char *purpose;
    uint64_t seed;
    int64_t start_time_us;
    const rp_kv *settings;
    size_t n_settings;
    const rp_kind_def *kinds;
    size_t n_kinds;
    const rp_component_def *components;
    size_t n_components;
} rp_trace_header;

typedef struct rp_verdict {
    const char *name;
    bool passed;
    int64_t count;
    const char *message;   /* may be NULL */
} rp_verdict;

typedef struct rp_metric {
    const char *key;
    double value;
    const char *unit;      /* may be NULL */
} rp_metric;

typedef struct rp_trace_summary {
    bool passed;
    const rp_verdict *invariants;
    size_t n_invariants;
    const rp_verdict *expectations;
    size_t n_expectations;
    const rp_metric *metrics;
    size_t n_metrics;
    int64_t records_sent, records_acked, records_failed; /* -1 = unknown */
    int64_t end_time_us;   /* -1 = unknown */
    uint64_t event_count;  /* writer: ignored (it counts); reader: as read */
    const char *reproduce; /* may be NULL */
} rp_trace_summary;

/* One event as read back: the kp_event, its sequence number, the component
 * that reported it and its kind's name from the header (NULL when the header
 * does not name the kind). */
typedef struct rp_event {
    kp_event ev;
    uint64_t seq;
    const char *component; /* may be NULL */
    const char *kind_name; /* may be NULL */
} rp_event;

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

typedef struct rp_trace_writer rp_trace_writer;

/* Creates/truncates `path`. NULL on failure, with *err set (may be NULL). */
rp_trace_writer *rp_trace_writer_open_path(const char *path, kp_err *err);
/* Writes to `f` (borrowed; not closed by rp_trace_writer_close). */
rp_trace_writer *rp_trace_writer_open_file(FILE *f);

/* Adds an event kind to the header's table (strings copied). Only before
 * rp_trace_writer_header. KP_ERR__INVALID_ARG when the number is already
 * registered or the name is NULL/empty; KP_ERR__STATE after the header. */
kp_err rp_trace_writer_register_kind(rp_trace_writer *w, int32_t kind, const char *name,
                                     const char *layer, const char *component);

/* Writes the header frame: h's fields and kinds, followed by the kinds
 * registered above (a number in both is KP_ERR__INVALID_ARG). Exactly once,
 * first. */
kp_err rp_trace_writer_header(rp_trace_writer *w, const rp_trace_header *h);

/* Writes one event frame with the next sequence number. `component` NULL
 * means: the component registered for ev->kind (none if not registered).
 * Strings are borrowed for the call. */
kp_err rp_trace_writer_event(rp_trace_writer *w, const kp_event *ev, const char *component);

/* Writes the summary frame (at most once; no events after it). The writer
 * fills event_count itself. */
kp_err rp_trace_writer_summary(rp_trace_writer *w, const rp_trace_summary *s);

/* Events written so far. */
uint64_t rp_trace_writer_count(const rp_trace_writer *w);

/* Encode events through protobuf-c's pack() instead of the writer's own
 * encoder: the same bytes, several times slower. For the test that proves
 * the two agree and for measuring; default off. */
void rp_trace_writer_use_protobuf_c(rp_trace_writer *w, bool on);

/* Hands the buffered frames to the FILE and fflush()es it, so a run that
 * dies later still leaves a readable trace up to here (the writer buffers
 * up to 64 KiB otherwise). Returns the sticky error. */
kp_err rp_trace_writer_flush(rp_trace_writer *w);

/* A kp_observer that writes each event (component from the kind table);
 * errors stay sticky in the writer and come out of rp_trace_writer_close. */
kp_observer rp_trace_writer_observer(rp_trace_writer *w);

/* Flushes, closes the file when opened by path, frees. Returns the first
 * error the writer met (KP_ERR_NONE when every byte reached the file).
 * Accepts NULL. */
kp_err rp_trace_writer_close(rp_trace_writer *w);

/* ------------------------------------------------------------------ */
/* Streaming reader                                                    */
/* ------------------------------------------------------------------ */

typedef struct rp_trace_reader rp_trace_reader;

typedef enum rp_trace_item {
    RP_TRACE_ERROR = -1,  /* see rp_trace_reader_error() */
    RP_TRACE_END = 0,     /* clean end of file */
    RP_TRACE_EVENT = 1,
    RP_TRACE_SUMMARY = 2
} rp_trace_item;

/* Opens and reads the header. On failure returns NULL and writes a message
 * ("FILE: offset N: what") into errbuf (errlen may be 0). */
rp_trace_reader *rp_trace_reader_open_path(const char *path, char *errbuf, size_t errlen);
/* Same over a memory buffer (borrowed; must outlive the reader). `name`
 * prefixes messages. */
rp_trace_reader *rp_trace_reader_open_mem(const void *buf, size_t len, const char *name,
                                          char *errbuf, size_t errlen);

const rp_trace_header *rp_trace_reader_header(const rp_trace_reader *r);

/* Reads the next frame. EVENT: *ev is filled (valid until the next call).
 * SUMMARY: rp_trace_reader_summary() is now set. ERROR: sticky. */
rp_trace_item rp_trace_reader_next(rp_trace_reader *r, rp_event *ev);

const rp_trace_summary *rp_trace_reader_summary(const rp_trace_reader *r); /* NULL until read */
const char *rp_trace_reader_error(const rp_trace_reader *r);               /* "" when none */
uint64_t rp_trace_reader_offset(const rp_trace_reader *r); /* bytes consumed */

void rp_trace_reader_close(rp_trace_reader *r); /* accepts NULL */

/* Kind name from a header's table, NULL when absent. */
const char *rp_trace_kind_name(const rp_trace_header *h, int32_t kind);

/* ------------------------------------------------------------------ */
/* Whole trace in memory                                               */
/* ------------------------------------------------------------------ */

typedef struct rp_trace {
    rp_trace_header header;
    rp_event *events;       /* in file order (= seq order) */
    size_t n_events;
    bool has_summary;
    rp_trace_summary summary;
    struct rp__pool *pool;  /* owns every string and array above */
} rp_trace;

/* Loads a whole trace. NULL on failure with the reader's message in errbuf. */
rp_trace *rp_trace_load_path(const char *path, char *errbuf, size_t errlen);
rp_trace *rp_trace_load_mem(const void *buf, size_t len, const char *name, char *errbuf,
                            size_t errlen);
void rp_trace_free(rp_trace *t); /* accepts NULL */

#endif
