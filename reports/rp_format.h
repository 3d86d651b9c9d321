/*
 * rp_format.h — a trace as text, as JSON Lines, or as a Chrome/Perfetto
 * timeline (`kpsim trace FILE --format text|json|perfetto`).
 *
 * text      header lines start with "# "; then one event per line:
 *             TIME_MS  SEQ  KIND  COMPONENT  field=value...
 *           time in simulated milliseconds with 3 decimals, columns
 *           aligned (widths from the header's kind and component tables;
 *           22 columns for components when the header names none),
 *           only the fields that apply, errors by name, detail quoted;
 *           then "# summary ..." lines when the trace has a summary.
 * json      JSON Lines: one object per line. First
 *             {"type":"header", "format_version", "kpsim_version", "scenario",
 *              "purpose", "seed", "start_time_us", "settings":{k:v},
 *              "kinds":[{"kind","name","layer","component"}],
 *              "components":[{"name","role","node"}]}
 *           then per event
 *             {"type":"event","seq","time_us","kind","kind_name","component",
 *              <the kp_event fields that apply>, "err_name" with "err"}
 *           then, when present,
 *             {"type":"summary","passed","records_sent","records_acked",
 *              "records_failed","end_time_us","event_count","reproduce",
 *              "invariants":[{"name","passed","count","message"}],
 *              "expectations":[...], "metrics":[{"key","value","unit"}]}
 *           Integers are JSON numbers (seed may exceed 2^53: read it as an
 *           integer, not a double).
 * perfetto  Chrome Trace Event JSON ({"traceEvents":[...]}) that
 *           ui.perfetto.dev and chrome://tracing open. pid 1 is the run.
 *           Each component (header order, then order of appearance) is a
 *           thread track: tid = 1000 * (index + 1), named by thread_name
 *           metadata; network events that name a link in their detail as
 *           simnet does ("A>B") get the track "link A<->B" instead of their
 *           one-word component (one track per link, both directions). Spans (rp_internal.h: batches in the accumulator,
 *           requests in flight) are complete "X" events on lane tracks of
 *           their component, tid = 1000 * (index + 1) + lane, named
 *           "COMPONENT: batches #k" / "COMPONENT: requests #k": overlapping
 *           spans go to different lanes, because Chrome's format nests
 *           slices of one thread. Every other event is an instant ("i") on
 *           its component's track, faults are global instants (cat "fault")
 *           drawn across all tracks, events with an error get cat "error".
 *           Counter tracks ("C"): in-flight requests per broker, buffer
 *           pool bytes in use. Kinds the role table (rp_kinds.h) does not
 *           know become instants: nothing is dropped.
 *
 * Output goes to a FILE*; nothing here keeps state between calls.
 */
#ifndef RP_FORMAT_H
#define RP_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "rp_trace.h"

typedef enum rp_format { RP_FORMAT_TEXT = 1, RP_FORMAT_JSON, RP_FORMAT_PERFETTO } rp_format;

/* "text" | "json" | "perfetto" */
bool rp_format_parse(const char *name, rp_format *out);

/* Column widths for text lines, from a header. */
typedef struct rp_text_widths {
    int kind, component;
} rp_text_widths;
rp_text_widths rp_text_widths_of(const rp_trace_header *h);

void rp_text_header(FILE *out, const rp_trace_header *h, const rp_text_widths *w);
void rp_text_event(FILE *out, const rp_trace_header *h, const rp_event *e,
                   const rp_text_widths *w);
void rp_text_summary(FILE *out, const rp_trace_summary *s);

void rp_json_header(FILE *out, const rp_trace_header *h);
void rp_json_event(FILE *out, const rp_trace_header *h, const rp_event *e);
void rp_json_summary(FILE *out, const rp_trace_summary *s);

/* Streams the rest of r as text or JSON. Returns 0, or -1 when the reader
 * failed (its message: rp_trace_reader_error; what came before is printed). */
int rp_format_stream(FILE *out, rp_trace_reader *r, rp_format fmt);

/* Writes the whole trace as Chrome Trace Event JSON. 0, or -1 when out of
 * memory. */
int rp_format_perfetto(FILE *out, const rp_trace *t);

#endif
