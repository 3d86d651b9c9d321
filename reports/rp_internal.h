/*
 * rp_internal.h — what the files of reports/ share and nobody else sees.
 *
 * rp__pool: the memory of an in-memory trace and of a reader's header and
 * summary. A bump allocator in chunks (freed all at once) plus a string
 * interner keyed by the string's CONTENT (FNV-1a hash, open addressing), so a
 * million events naming "sender" hold one copy of it and iteration order
 * never depends on pointer values.
 *
 * Ownership: the pool owns every block and string it returned, until
 * rp__pool_free.
 */
#ifndef RP_INTERNAL_H
#define RP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct rp__pool rp__pool;

rp__pool *rp__pool_new(void);
void rp__pool_free(rp__pool *p); /* accepts NULL */
/* n zero-filled bytes aligned for any object; NULL when malloc fails. */
void *rp__pool_alloc(rp__pool *p, size_t n);
/* The pool's copy of s (one per distinct content). NULL in, NULL out; NULL
 * also when malloc fails and s != NULL — callers check. */
const char *rp__pool_intern(rp__pool *p, const char *s);
/* Same for a string of n bytes that need not be NUL-terminated. */
const char *rp__pool_intern_n(rp__pool *p, const char *s, size_t n);

/* printf into a growable buffer owned by the caller (free(b->p)). */
typedef struct rp__sbuf {
    char *p;
    size_t len, cap;
    int failed; /* allocation failed: content is truncated */
} rp__sbuf;
void rp__sbuf_printf(rp__sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rp__sbuf_putn(rp__sbuf *b, const char *s, size_t n);

#endif

/* ---- int64 -> size_t map (keys are numbers, never pointers) -------------- */
typedef struct rp__imap {
    int64_t *keys;
    size_t *vals;
    unsigned char *used;
    size_t n, cap;
} rp__imap;
/* 0 on success, -1 when malloc fails. Replaces an existing value. */
int rp__imap_put(rp__imap *m, int64_t key, size_t val);
/* true and *val when present. */
int rp__imap_get(const rp__imap *m, int64_t key, size_t *val);
void rp__imap_free(rp__imap *m);

/* ---- spans: what Perfetto draws and the report counts ---------------------
 * A batch span runs from batch_created (or a split piece's split event, or a
 * retry's re-enqueue) to drain / batch_expired / batch_failed of the same
 * batch (a batch_split ends its parent's and starts one per piece); a
 * request span from request_sent to the REQUEST_DONE kind with the same
 * (node, correlation_id), or to a `disconnected` of its node. A start whose
 * key is still open ends the open span there (unfinished) unless it is the
 * same start told twice (same time); spans still open at the end of the
 * trace end at the last event's time, unfinished. */
#include "rp_kinds.h"
#include "rp_trace.h"

/* ---- the model: per-event roles and the records they concern ------------
 * Built once per in-memory trace by rp__model_build (rp_model.c), used by
 * spans, the report and explain.
 *
 * Producers are told apart by "scope": the component up to its first space
 * ("producer-1 accumulator" -> "producer-1"; a component without a space is
 * scope ""), because batch ids and send order are per producer. When at most
 * one scope sends, the trace has one producer and all events share scope 0.
 *
 * Record numbers (which record an event concerns), per scope:
 *   SEND      value if >= 0, else the count of earlier sends (send order);
 *   APPEND    the record of the latest SEND (doSend appends synchronously);
 *   CALLBACK  value if >= 0, else the k-th record appended to its batch for
 *             the k-th callback of that batch;
 * split pieces (SPLIT: value = parent; SPLIT_PARENT: the next `value` batch
 * ids) take their parent's records in order, as many as their first drain
 * names (record_count), or one by one at their callbacks. */
typedef struct rp__model {
    const rp_trace *t;
    size_t n;
    rp_role *role;          /* per event */
    int64_t *record;       /* per event: record number or -1 */
    int64_t *first_piece;  /* per event: SPLIT_PARENT -> first inferred piece id, else -1 */
    uint32_t *scope;       /* per event: scope index */
    rp__imap parent;       /* batch key -> parent batch key (+0) */
    size_t n_scopes;
} rp__model;

int rp__model_build(const rp_trace *t, rp__model *m); /* 0, or -1 out of memory */
void rp__model_free(rp__model *m);
/* The key of batch_id in the scope of event i (scope << 40 | batch_id). */
int64_t rp__batch_key(const rp__model *m, size_t i, int64_t batch_id);

enum { RP_SPAN_BATCH = 1, RP_SPAN_REQUEST = 2 };

typedef struct rp__span {
    int cat;                 /* RP_SPAN_* */
    size_t start_ix, end_ix; /* event indexes; end_ix = SIZE_MAX if unfinished */
    int64_t start_us, end_us;
    int64_t batch_id;        /* RP_SPAN_BATCH: the batch (a split piece's own id) */
} rp__span;

/* Pairs the spans of t (in start order). *is_boundary (optional, n_events
 * bytes, caller-allocated) gets 1 for events consumed as span start/end.
 * Returns the count, or SIZE_MAX when malloc fails; *out is malloc'ed. */
size_t rp__spans_build(const rp__model *m, rp__span **out, unsigned char *is_boundary);

/* The component an event belongs to: its own, else its kind's, else its
 * kind's layer, else "unknown". */
const char *rp__event_component(const rp_trace_header *h, const rp_event *e);

/* Writes s as a JSON string literal (quotes included): control characters
 * escaped, invalid UTF-8 replaced by U+FFFD, NULL as null. */
void rp__json_str(FILE *f, const char *s);
/* Length of the valid UTF-8 sequence at s (1..4), 0 when invalid (a NUL
 * ends any sequence, so reading stops at the terminator). */
size_t rp__utf8_len(const unsigned char *s);
/* Kind name or "kind_<n>" (into buf). */
const char *rp__kind_label(const rp_event *e, char *buf, size_t len);
/* Writes microseconds as milliseconds with 3 decimals, exactly ("-0.001"). */
void rp__ms3(char *buf, size_t len, int64_t us);
