/*
 * sc_sweep.c — seed ranges and shards, sweep result files, a protobuf
 * text-format writer, and the shrinker (see sc_sweep.h for the formats and
 * the order in which the shrinker tries its changes).
 *
 * Invariants:
 * - The result file is written and read by this file only; a line the
 *   reader does not understand is an error with its line number, never a
 *   silently skipped seed (merging must not lose seeds).
 * - The text writer emits exactly the fields protobuf-c's packer would
 *   emit (has_ flags, non-NULL and non-default pointers, the chosen oneof
 *   member), so pack(parse(write(m))) == pack(m).
 * - The shrinker never changes the caller's scenario: every candidate is a
 *   fresh copy (pack + unpack) of the current smallest failing message.
 *
 * Memory: the shrinker owns its current message and each candidate until
 * it hands the final one to the caller in sc_sweep_shrink_result.scenario.
 */
#include "sc_sweep.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Seeds and shards
 * ==================================================================== */

static bool sc_sweep_parse_u64(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool sc_sweep_parse_seeds(const char *s, uint64_t *first, uint64_t *last) {
    if (!s)
        return false;
    const char *dots = strstr(s, "..");
    uint64_t a, b;
    if (!dots) {
        if (!sc_sweep_parse_u64(s, strlen(s), &a))
            return false;
        b = a;
    } else if (!sc_sweep_parse_u64(s, (size_t)(dots - s), &a) ||
               !sc_sweep_parse_u64(dots + 2, strlen(dots + 2), &b)) {
        return false;
    }
    if (b < a || b - a >= SC_SWEEP_MAX_SEEDS)
        return false;
    *first = a;
    *last = b;
    return true;
}

bool sc_sweep_parse_shard(const char *s, uint32_t *index, uint32_t *count) {
    if (!s)
        return false;
    const char *slash = strchr(s, '/');
    uint64_t i, n;
    if (!slash || !sc_sweep_parse_u64(s, (size_t)(slash - s), &i) ||
        !sc_sweep_parse_u64(slash + 1, strlen(slash + 1), &n))
        return false;
    if (n < 1 || n > 1000000 || i < 1 || i > n)
        return false;
    *index = (uint32_t)i;
    *count = (uint32_t)n;
    return true;
}

bool sc_sweep_in_shard(uint64_t seed, uint64_t first, uint32_t index, uint32_t count) {
    return seed >= first && (seed - first) % count == (uint64_t)(index - 1);
}

uint64_t sc_sweep_shard_seeds(uint64_t first, uint64_t last, uint32_t index, uint32_t count,
                              uint64_t *start) {
    uint64_t span = last - first; /* number of seeds - 1 */
    uint64_t off = index - 1;
    if (off > span)
        return 0;
    *start = first + off;
    return (span - off) / count + 1;
}

/* ======================================================================
 * One seed's result
 * ==================================================================== */

const char *sc_sweep_verdict_name(sc_sweep_verdict v) {
    switch (v) {
    case SC_SWEEP_PASS: return "pass";
    case SC_SWEEP_FAIL: return "fail";
    case SC_SWEEP_CRASH: return "crash";
    case SC_SWEEP_TIMEOUT: return "timeout";
    }
    return "?";
}

void sc_sweep_seed_from_run(sc_sweep_seed *out, const sc_run_result *res) {
    memset(out, 0, sizeof *out);
    out->seed = res->seed;
    out->verdict = res->passed ? SC_SWEEP_PASS : SC_SWEEP_FAIL;
    out->digest = res->digest;
    out->events = res->events;
    out->sim_end_us = res->sim_end_us;
    _Static_assert(sizeof out->counters == sizeof res->counters, "counter arrays differ");
    memcpy(out->counters, res->counters, sizeof out->counters);
    if (!res->passed)
        snprintf(out->failure, sizeof out->failure, "%s",
                 res->first_failure[0] ? res->first_failure : "failed");
}

void sc_sweep_failure_key(const char *failure, char *out, size_t cap) {
    if (!cap)
        return;
    const char *s = failure ? failure : "";
    /* a crash is named by all of it: signal and last words (assertion,
     * sanitizer summary), so shrinking does not trade one crash for another */
    const char *colon = strncmp(s, "crash: ", 7) ? strstr(s, ": ") : NULL;
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

/* Counter columns: the kpsim.Counter values except UNSPECIFIED, in number
 * order (the descriptor lists values by number). */
size_t sc_sweep_counter_columns(void) {
    size_t n = 0;
    for (unsigned i = 0; i < kpsim__counter__descriptor.n_values; i++) {
        int v = kpsim__counter__descriptor.values[i].value;
        n += v > 0 && v < SC_SWEEP_NCOUNTERS;
    }
    return n;
}

static const ProtobufCEnumValue *sc_sweep_counter_value(size_t column) {
    size_t n = 0;
    for (unsigned i = 0; i < kpsim__counter__descriptor.n_values; i++) {
        int v = kpsim__counter__descriptor.values[i].value;
        if (v > 0 && v < SC_SWEEP_NCOUNTERS && n++ == column)
            return &kpsim__counter__descriptor.values[i];
    }
    return NULL;
}

int sc_sweep_counter_number(size_t column) {
    const ProtobufCEnumValue *v = sc_sweep_counter_value(column);
    return v ? v->value : -1;
}

const char *sc_sweep_counter_column_name(size_t column) {
    static char names[SC_SWEEP_NCOUNTERS][48];
    const ProtobufCEnumValue *v = sc_sweep_counter_value(column);
    if (!v || column >= SC_SWEEP_NCOUNTERS)
        return NULL;
    char *o = names[column];
    size_t j = 0;
    for (const char *c = v->name; *c && j + 1 < sizeof names[0]; c++)
        o[j++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    o[j] = 0;
    return o;
}

/* ======================================================================
 * Result files
 * ==================================================================== */

#define SC_SWEEP_MAGIC "# kpsim sweep results v1"

/* Writes s with TAB, CR and LF turned into spaces (one field, one line). */
static void sc_sweep_put_field(FILE *f, const char *s) {
    for (; *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

void sc_sweep_write_header(FILE *f, const sc_sweep_meta *m) {
    fprintf(f, SC_SWEEP_MAGIC "\n# scenario\t");
    sc_sweep_put_field(f, m->scenario_path ? m->scenario_path : "");
    fprintf(f, "\n# name\t");
    sc_sweep_put_field(f, m->name ? m->name : "");
    fprintf(f, "\n# seeds\t%" PRIu64 "..%" PRIu64 "\n# shard\t%" PRIu32 "/%" PRIu32 "\n", m->first, m->last,
            m->shard_index, m->shard_count);
    for (size_t i = 0; i < m->nsets; i++) {
        fprintf(f, "# set\t");
        sc_sweep_put_field(f, m->sets[i]);
        fputc('\n', f);
    }
    fprintf(f, "seed\tverdict\tdigest\tevents\tsim_end_us");
    for (size_t c = 0; c < sc_sweep_counter_columns(); c++)
        fprintf(f, "\t%s", sc_sweep_counter_column_name(c));
    fprintf(f, "\tfirst_failure\n");
}

void sc_sweep_write_seed(FILE *f, const sc_sweep_seed *s) {
    fprintf(f, "%" PRIu64 "\t%s\t%016" PRIx64 "\t%" PRIu64 "\t%" PRId64, s->seed, sc_sweep_verdict_name(s->verdict),
            s->digest, s->events, s->sim_end_us);
    for (size_t c = 0; c < sc_sweep_counter_columns(); c++)
        fprintf(f, "\t%" PRId64, s->counters[sc_sweep_counter_number(c)]);
    fputc('\t', f);
    if (s->verdict == SC_SWEEP_PASS || !s->failure[0])
        fputc('-', f);
    else
        sc_sweep_put_field(f, s->failure);
    fputc('\n', f);
}

void sc_sweep_write_trailer(FILE *f, uint64_t passed, uint64_t failed) {
    fprintf(f, "# end\t%" PRIu64 " passed, %" PRIu64 " failed\n", passed, failed);
}

void sc_sweep_file_free(sc_sweep_file *f) {
    if (!f)
        return;
    free(f->path);
    free(f->scenario_path);
    free(f->name);
    for (size_t i = 0; i < f->nsets; i++)
        free(f->sets[i]);
    free(f->sets);
    free(f->seeds);
    memset(f, 0, sizeof *f);
}

/* Splits `line` in place at TABs; returns the number of fields (at most cap). */
static size_t sc_sweep_split(char *line, char **fields, size_t cap) {
    size_t n = 0;
    char *p = line;
    while (n < cap) {
        fields[n++] = p;
        char *t = strchr(p, '\t');
        if (!t)
            break;
        *t = 0;
        p = t + 1;
    }
    return n;
}

static bool sc_sweep_parse_i64(const char *s, int64_t *out) {
    if (!*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

enum { SC_SWEEP_COL_SEED, SC_SWEEP_COL_VERDICT, SC_SWEEP_COL_DIGEST, SC_SWEEP_COL_EVENTS, SC_SWEEP_COL_END };

bool sc_sweep_file_read(const char *path, sc_sweep_file *out, sc_error *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) {
        sc_error_set(err, path, (sc_pos){ 0, 0 }, "cannot read: %s", strerror(errno));
        return false;
    }
    out->path = strdup(path);
    char *line = NULL;
    size_t cap = 0, seeds_cap = 0;
    ssize_t len;
    int lineno = 0;
    bool have_seeds = false, have_shard = false, have_columns = false, ok = true;
    size_t ncols = 0;
    int colmap[64];     /* file column -> counter number, or -1 / special */
    char *fields[64];
    const size_t nfixed = 5; /* seed verdict digest events sim_end_us */
#define FAIL_AT(...)                                                                                \
    do {                                                                                            \
        sc_error_set(err, path, (sc_pos){ lineno, 1 }, __VA_ARGS__);                                \
        ok = false;                                                                                 \
        goto done;                                                                                  \
    } while (0)
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (lineno == 1) {
            if (strcmp(line, SC_SWEEP_MAGIC))
                FAIL_AT("not a kpsim sweep result file (expected the line \"" SC_SWEEP_MAGIC "\")");
            continue;
        }
        if (out->complete)
            FAIL_AT("text after the \"# end\" line");
        if (line[0] == '#') {
            size_t n = sc_sweep_split(line, fields, 2);
            if (n != 2)
                FAIL_AT("metadata line without a TAB");
            const char *k = fields[0], *v = fields[1];
            if (have_columns && strcmp(k, "# end"))
                FAIL_AT("metadata after the column line");
            if (!strcmp(k, "# scenario")) {
                free(out->scenario_path);
                out->scenario_path = strdup(v);
            } else if (!strcmp(k, "# name")) {
                free(out->name);
                out->name = strdup(v);
            } else if (!strcmp(k, "# seeds")) {
                if (!sc_sweep_parse_seeds(v, &out->first, &out->last))
                    FAIL_AT("bad seed range '%s' (expected A..B)", v);
                have_seeds = true;
            } else if (!strcmp(k, "# shard")) {
                if (!sc_sweep_parse_shard(v, &out->shard_index, &out->shard_count))
                    FAIL_AT("bad shard '%s' (expected I/N)", v);
                have_shard = true;
            } else if (!strcmp(k, "# set")) {
                char **ns = realloc(out->sets, (out->nsets + 1) * sizeof *ns);
                if (!ns)
                    FAIL_AT("out of memory");
                out->sets = ns;
                out->sets[out->nsets++] = strdup(v);
            } else if (!strcmp(k, "# end")) {
                if (!have_columns)
                    FAIL_AT("\"# end\" before the column line");
                out->complete = true;
            } else {
                FAIL_AT("unknown metadata line '%s'", k);
            }
            continue;
        }
        if (!have_columns) {
            if (!have_seeds || !have_shard || !out->scenario_path || !out->name)
                FAIL_AT("the column line came before the scenario, name, seeds and shard lines");
            ncols = sc_sweep_split(line, fields, 64);
            static const char *fixed[] = { "seed", "verdict", "digest", "events", "sim_end_us" };
            for (size_t i = 0; i < nfixed; i++)
                if (ncols <= i || strcmp(fields[i], fixed[i]))
                    FAIL_AT("column %zu must be '%s'", i + 1, fixed[i]);
            if (strcmp(fields[ncols - 1], "first_failure"))
                FAIL_AT("the last column must be 'first_failure'");
            for (size_t i = nfixed; i + 1 < ncols; i++) {
                colmap[i] = -1;
                for (size_t c = 0; c < sc_sweep_counter_columns(); c++)
                    if (!strcmp(fields[i], sc_sweep_counter_column_name(c)))
                        colmap[i] = sc_sweep_counter_number(c);
                if (colmap[i] < 0)
                    FAIL_AT("unknown counter column '%s'", fields[i]);
            }
            have_columns = true;
            continue;
        }
        size_t n = sc_sweep_split(line, fields, 64);
        if (n != ncols)
            FAIL_AT("%zu fields, the column line has %zu", n, ncols);
        if (out->nseeds == seeds_cap) {
            size_t nc = seeds_cap ? seeds_cap * 2 : 256;
            sc_sweep_seed *ns = realloc(out->seeds, nc * sizeof *ns);
            if (!ns)
                FAIL_AT("out of memory");
            out->seeds = ns;
            seeds_cap = nc;
        }
        sc_sweep_seed *s = &out->seeds[out->nseeds];
        memset(s, 0, sizeof *s);
        if (!sc_sweep_parse_u64(fields[SC_SWEEP_COL_SEED], strlen(fields[SC_SWEEP_COL_SEED]), &s->seed))
            FAIL_AT("bad seed '%s'", fields[SC_SWEEP_COL_SEED]);
        const char *vd = fields[SC_SWEEP_COL_VERDICT];
        if (!strcmp(vd, "pass"))
            s->verdict = SC_SWEEP_PASS;
        else if (!strcmp(vd, "fail"))
            s->verdict = SC_SWEEP_FAIL;
        else if (!strcmp(vd, "crash"))
            s->verdict = SC_SWEEP_CRASH;
        else if (!strcmp(vd, "timeout"))
            s->verdict = SC_SWEEP_TIMEOUT;
        else
            FAIL_AT("bad verdict '%s' (pass, fail, crash or timeout)", vd);
        char *end;
        const char *dg = fields[SC_SWEEP_COL_DIGEST];
        errno = 0;
        s->digest = strtoull(dg, &end, 16);
        if (strlen(dg) != 16 || errno || *end)
            FAIL_AT("bad digest '%s' (16 hex digits)", dg);
        int64_t v;
        if (!sc_sweep_parse_i64(fields[SC_SWEEP_COL_EVENTS], &v) || v < 0)
            FAIL_AT("bad events '%s'", fields[SC_SWEEP_COL_EVENTS]);
        s->events = (uint64_t)v;
        if (!sc_sweep_parse_i64(fields[SC_SWEEP_COL_END], &s->sim_end_us))
            FAIL_AT("bad sim_end_us '%s'", fields[SC_SWEEP_COL_END]);
        for (size_t i = nfixed; i + 1 < ncols; i++)
            if (!sc_sweep_parse_i64(fields[i], &s->counters[colmap[i]]))
                FAIL_AT("bad number '%s' in column %zu", fields[i], i + 1);
        const char *fl = fields[ncols - 1];
        if (s->verdict != SC_SWEEP_PASS)
            snprintf(s->failure, sizeof s->failure, "%s", strcmp(fl, "-") ? fl : "");
        out->nseeds++;
    }
    if (lineno == 0)
        FAIL_AT("empty file");
    if (!have_columns)
        FAIL_AT("no column line: the file ends in its header");
done:
#undef FAIL_AT
    free(line);
    fclose(f);
    if (!ok)
        sc_sweep_file_free(out);
    return ok;
}

/* ======================================================================
 * Protobuf text format writer
 * ==================================================================== */

static void sc_tp_string(FILE *f, const uint8_t *p, size_t n, bool bytes) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20 || c == 0x7f || (bytes && c >= 0x80))
                fprintf(f, "\\%03o", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

/* Shortest of %.15g..%.17g that reads back to the same double. */
static void sc_tp_double(FILE *f, double d, bool is_float) {
    if (isnan(d)) {
        fputs("nan", f);
        return;
    }
    if (isinf(d)) {
        fputs(d < 0 ? "-inf" : "inf", f);
        return;
    }
    char buf[64];
    for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (is_float ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d)
            break;
    }
    fputs(buf, f);
}

/* Writing has two layouts: a message whose present fields are all scalars
 * and that fits in SC_TP_INLINE columns goes on one line
 * (`setting { key: "acks" value: "all" }`); any other message opens a
 * block, one field per line. A repeated scalar field is one `[a, b]` list.
 * Either layout parses back to the same message. */
#define SC_TP_INLINE 96

static int sc_tp_message(FILE *f, const ProtobufCMessage *msg, int depth, bool inline_);

static void sc_tp_indent(FILE *f, int depth) {
    for (int i = 0; i < depth; i++)
        fputs("  ", f);
}

/* One scalar value stored at p (no name, no separator). */
static int sc_tp_scalar(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p) {
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: fprintf(f, "%" PRId32, *(const int32_t *)p); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: fprintf(f, "%" PRIu32, *(const uint32_t *)p); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: fprintf(f, "%" PRId64, *(const int64_t *)p); break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: fprintf(f, "%" PRIu64, *(const uint64_t *)p); break;
    case PROTOBUF_C_TYPE_FLOAT: sc_tp_double(f, *(const float *)p, true); break;
    case PROTOBUF_C_TYPE_DOUBLE: sc_tp_double(f, *(const double *)p, false); break;
    case PROTOBUF_C_TYPE_BOOL: fputs(*(const protobuf_c_boolean *)p ? "true" : "false", f); break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, v);
        if (ev)
            fputs(ev->name, f);
        else
            fprintf(f, "%d", v);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        sc_tp_string(f, (const uint8_t *)s, strlen(s), false);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        sc_tp_string(f, b->data, b->len, true);
        break;
    }
    default: return -1;
    }
    return 0;
}

static size_t sc_tp_elem_size(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return 4;
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* Present by protobuf-c's packing rules (protobuf-c.c, optional_field_get_packed_size
 * and oneof_field_get_packed_size): pointers non-NULL and not the default,
 * oneof members by their case, other scalars by has_. */
static bool sc_tp_present(const ProtobufCFieldDescriptor *fd, const uint8_t *base) {
    const void *member = base + fd->offset;
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE || fd->type == PROTOBUF_C_TYPE_STRING) {
        const void *ptr = *(const void *const *)member;
        return ptr != NULL && ptr != fd->default_value;
    }
    if (fd->label == PROTOBUF_C_LABEL_REQUIRED)
        return true;
    return *(const protobuf_c_boolean *)(base + fd->quantifier_offset) != 0;
}

/* True when no present field of msg is a message (it may go on one line). */
static bool sc_tp_flat(const ProtobufCMessage *msg) {
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const uint8_t *base = (const uint8_t *)msg;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED ? *(const size_t *)(base + fd->quantifier_offset) > 0
                                                   : sc_tp_present(fd, base))
            return false;
    }
    return true;
}

/* A sub-message value: inline when flat and short, else a block. */
static int sc_tp_submessage(FILE *f, const ProtobufCFieldDescriptor *fd, const ProtobufCMessage *m, int depth,
                            bool inline_) {
    if (!m)
        return -1;
    if (sc_tp_flat(m)) {
        char *buf = NULL;
        size_t n = 0;
        FILE *mf = open_memstream(&buf, &n);
        if (!mf)
            return -1;
        int rc = sc_tp_message(mf, m, depth + 1, true);
        if (fclose(mf) != 0)
            rc = -1;
        if (!rc && (inline_ || (size_t)depth * 2 + strlen(fd->name) + n + 4 <= SC_TP_INLINE)) {
            fprintf(f, "%s {%s }", fd->name, buf);
            free(buf);
            return 0;
        }
        free(buf);
        if (rc)
            return -1;
    } else if (inline_) {
        return -1; /* cannot happen: a flat message has no message fields */
    }
    fprintf(f, "%s {\n", fd->name);
    if (sc_tp_message(f, m, depth + 1, false))
        return -1;
    sc_tp_indent(f, depth);
    fputs("}", f);
    return 0;
}

/* Writes the fields of msg: each on its own line at `depth`, or (inline_)
 * each preceded by one space on the current line. */
static int sc_tp_message(FILE *f, const ProtobufCMessage *msg, int depth, bool inline_) {
    if (!msg || depth > SC_TEXTPB_MAX_DEPTH)
        return -1;
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const uint8_t *base = (const uint8_t *)msg;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        bool rep = fd->label == PROTOBUF_C_LABEL_REPEATED;
        size_t n = rep ? *(const size_t *)(base + fd->quantifier_offset) : sc_tp_present(fd, base);
        if (!n)
            continue;
        const uint8_t *vals = rep ? *(const uint8_t *const *)(base + fd->offset) : base + fd->offset;
        size_t es = sc_tp_elem_size(fd->type);
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            for (size_t k = 0; k < n; k++) {
                if (inline_)
                    fputc(' ', f);
                else
                    sc_tp_indent(f, depth);
                if (sc_tp_submessage(f, fd, *(ProtobufCMessage *const *)(vals + k * es), depth, inline_))
                    return -1;
                if (!inline_)
                    fputc('\n', f);
            }
            continue;
        }
        if (inline_)
            fputc(' ', f);
        else
            sc_tp_indent(f, depth);
        fprintf(f, "%s: %s", fd->name, rep ? "[" : "");
        for (size_t k = 0; k < n; k++) {
            if (k)
                fputs(", ", f);
            if (sc_tp_scalar(f, fd, vals + k * es))
                return -1;
        }
        fputs(rep ? "]" : "", f);
        if (!inline_)
            fputc('\n', f);
    }
    return 0;
}

int sc_sweep_write_textpb(FILE *f, const ProtobufCMessage *msg) {
    if (sc_tp_message(f, msg, 0, false))
        return -1;
    return ferror(f) ? -1 : 0;
}

char *sc_sweep_textpb_string(const ProtobufCMessage *msg, size_t *len) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    int rc = sc_sweep_write_textpb(f, msg);
    if (fclose(f) != 0 || rc) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = n;
    return buf;
}

/* ======================================================================
 * Shrinking
 * ==================================================================== */

sc_scenario *sc_sweep_scenario_from_proto(const Kpsim__Scenario *msg, const char *name, sc_error *err) {
    size_t len = 0;
    char *text = sc_sweep_textpb_string(&msg->base, &len);
    if (!text) {
        sc_error_set(err, name, (sc_pos){ 0, 0 }, "out of memory");
        return NULL;
    }
    sc_scenario *sc = sc_scenario_load_text(name, text, len, err);
    free(text);
    return sc;
}

/* An independent, mutable copy (protobuf-c's own allocation layout). */
static Kpsim__Scenario *sc_shrink_copy(const Kpsim__Scenario *s) {
    size_t n = kpsim__scenario__get_packed_size(s);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return NULL;
    kpsim__scenario__pack(s, buf);
    Kpsim__Scenario *c = kpsim__scenario__unpack(NULL, n, buf);
    free(buf);
    return c;
}

static void sc_shrink_free(Kpsim__Scenario *s) {
    if (s)
        kpsim__scenario__free_unpacked(s, NULL);
}

/* The six chaos rates, by number. */
#define SC_SHRINK_NRATES 6
static const char *const sc_shrink_rate_names[SC_SHRINK_NRATES] = {
    "disconnects_per_min", "partitions_per_min", "blackholes_per_min",
    "slow_links_per_min", "broker_crashes_per_min", "leader_moves_per_min",
};

static double *sc_shrink_rate(Kpsim__Chaos *c, int r, protobuf_c_boolean **has) {
    switch (r) {
    case 0: *has = &c->has_disconnects_per_min; return &c->disconnects_per_min;
    case 1: *has = &c->has_partitions_per_min; return &c->partitions_per_min;
    case 2: *has = &c->has_blackholes_per_min; return &c->blackholes_per_min;
    case 3: *has = &c->has_slow_links_per_min; return &c->slow_links_per_min;
    case 4: *has = &c->has_broker_crashes_per_min; return &c->broker_crashes_per_min;
    default: *has = &c->has_leader_moves_per_min; return &c->leader_moves_per_min;
    }
}

typedef enum sc_shrink_kind {
    SC_OP_DROP_FAULT,
    SC_OP_DROP_CHAOS,
    SC_OP_ZERO_RATE,
    SC_OP_DROP_CHAOS_ERROR,
    SC_OP_HALVE_RATE,
    SC_OP_HALVE_ERROR_RATE,
    SC_OP_HALVE_MEAN_DURATION,
    SC_OP_HALVE_RECORDS,
    SC_OP_HALVE_DURATION,
    SC_OP_HALVE_INJECT,
    SC_OP_DROP_SETTING,
} sc_shrink_kind;

typedef struct sc_shrink_op {
    sc_shrink_kind kind;
    size_t index;  /* fault, rate, chaos error or producer */
    size_t sub;    /* the producer's setting (SC_OP_DROP_SETTING) */
} sc_shrink_op;

/* The candidate changes of `s`, in the order sc_sweep.h lists them.
 * Returns how many (at most cap). */
static size_t sc_shrink_ops(const Kpsim__Scenario *s, sc_shrink_op *ops, size_t cap) {
    size_t n = 0;
#define ADD2(k, i, j)                                                                              \
    do {                                                                                           \
        if (n < cap)                                                                               \
            ops[n++] = (sc_shrink_op){ (k), (i), (j) };                                            \
    } while (0)
#define ADD(k, i) ADD2(k, i, 0)
    for (size_t i = 0; i < s->n_fault; i++)
        ADD(SC_OP_DROP_FAULT, i);
    Kpsim__Chaos *c = s->chaos;
    if (c) {
        ADD(SC_OP_DROP_CHAOS, 0);
        protobuf_c_boolean *has;
        for (int r = 0; r < SC_SHRINK_NRATES; r++)
            if (*sc_shrink_rate(c, r, &has) > 0)
                ADD(SC_OP_ZERO_RATE, (size_t)r);
        for (size_t e = 0; e < c->n_error; e++)
            ADD(SC_OP_DROP_CHAOS_ERROR, e);
        for (int r = 0; r < SC_SHRINK_NRATES; r++)
            if (*sc_shrink_rate(c, r, &has) > 0.5)
                ADD(SC_OP_HALVE_RATE, (size_t)r);
        for (size_t e = 0; e < c->n_error; e++)
            if (c->error[e]->per_min > 0.5)
                ADD(SC_OP_HALVE_ERROR_RATE, e);
        if (c->mean_duration_ms > 10)
            ADD(SC_OP_HALVE_MEAN_DURATION, 0);
    }
    for (size_t p = 0; p < s->n_producer; p++) {
        const Kpsim__Workload *w = s->producer[p]->workload;
        if (w && w->has_records && w->records > 1)
            ADD(SC_OP_HALVE_RECORDS, p);
        if (w && w->has_duration_ms && w->duration_ms > 1)
            ADD(SC_OP_HALVE_DURATION, p);
    }
    for (size_t i = 0; i < s->n_fault; i++)
        if (s->fault[i]->action_case == KPSIM__FAULT__ACTION_INJECT && s->fault[i]->inject->count > 1)
            ADD(SC_OP_HALVE_INJECT, i);
    for (size_t p = 0; p < s->n_producer; p++)
        for (size_t k = 0; k < s->producer[p]->n_setting; k++)
            ADD2(SC_OP_DROP_SETTING, p, k);
#undef ADD
#undef ADD2
    return n;
}

/* Applies op to s (a private copy). */
static void sc_shrink_apply(Kpsim__Scenario *s, sc_shrink_op op) {
    Kpsim__Chaos *c = s->chaos;
    protobuf_c_boolean *has;
    double *rate;
    switch (op.kind) {
    case SC_OP_DROP_FAULT:
        kpsim__fault__free_unpacked(s->fault[op.index], NULL);
        memmove(&s->fault[op.index], &s->fault[op.index + 1],
                (s->n_fault - op.index - 1) * sizeof s->fault[0]);
        s->n_fault--;
        break;
    case SC_OP_DROP_CHAOS:
        kpsim__chaos__free_unpacked(c, NULL);
        s->chaos = NULL;
        break;
    case SC_OP_ZERO_RATE:
        rate = sc_shrink_rate(c, (int)op.index, &has);
        *rate = 0;
        *has = 1;
        break;
    case SC_OP_DROP_CHAOS_ERROR:
        kpsim__chaos_error__free_unpacked(c->error[op.index], NULL);
        memmove(&c->error[op.index], &c->error[op.index + 1], (c->n_error - op.index - 1) * sizeof c->error[0]);
        c->n_error--;
        break;
    case SC_OP_HALVE_RATE:
        rate = sc_shrink_rate(c, (int)op.index, &has);
        *rate /= 2;
        *has = 1;
        break;
    case SC_OP_HALVE_ERROR_RATE:
        c->error[op.index]->per_min /= 2;
        c->error[op.index]->has_per_min = 1;
        break;
    case SC_OP_HALVE_MEAN_DURATION:
        c->mean_duration_ms /= 2;
        c->has_mean_duration_ms = 1;
        break;
    case SC_OP_HALVE_RECORDS:
        s->producer[op.index]->workload->records /= 2;
        break;
    case SC_OP_HALVE_DURATION:
        s->producer[op.index]->workload->duration_ms /= 2;
        break;
    case SC_OP_HALVE_INJECT:
        s->fault[op.index]->inject->count /= 2;
        s->fault[op.index]->inject->has_count = 1;
        break;
    case SC_OP_DROP_SETTING: {
        Kpsim__Producer *p = s->producer[op.index];
        kpsim__setting__free_unpacked(p->setting[op.sub], NULL);
        memmove(&p->setting[op.sub], &p->setting[op.sub + 1], (p->n_setting - op.sub - 1) * sizeof p->setting[0]);
        p->n_setting--;
        break;
    }
    }
}

static double sc_shrink_chaos_total(const Kpsim__Chaos *c) {
    if (!c)
        return 0;
    double t = 0;
    protobuf_c_boolean *has;
    for (int r = 0; r < SC_SHRINK_NRATES; r++)
        t += *sc_shrink_rate((Kpsim__Chaos *)c, r, &has);
    for (size_t e = 0; e < c->n_error; e++)
        t += c->error[e]->per_min;
    return t;
}

/* "faults 5 -> 1, chaos 12 -> 1.5 faults/min, records of app 3000 -> 375";
 * "no change" when nothing was kept. */
static void sc_shrink_summary(const Kpsim__Scenario *a, const Kpsim__Scenario *b, char *out, size_t cap) {
    size_t off = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (off < cap)                                                                             \
            off += (size_t)snprintf(out + off, cap - off, __VA_ARGS__);                            \
    } while (0)
#define SEP (off ? ", " : "")
    out[0] = 0;
    if (a->n_fault)
        PUT("faults %zu -> %zu", a->n_fault, b->n_fault);
    if (a->chaos && !b->chaos)
        PUT("%schaos dropped (was %.4g faults/min)", SEP, sc_shrink_chaos_total(a->chaos));
    if (a->chaos && b->chaos) {
        PUT("%schaos %.4g -> %.4g faults/min", SEP, sc_shrink_chaos_total(a->chaos), sc_shrink_chaos_total(b->chaos));
        for (int r = 0; r < SC_SHRINK_NRATES; r++) {
            protobuf_c_boolean *has;
            double va = *sc_shrink_rate(a->chaos, r, &has), vb = *sc_shrink_rate(b->chaos, r, &has);
            if (va != vb)
                PUT(", %s %.4g -> %.4g", sc_shrink_rate_names[r], va, vb);
        }
    }
    for (size_t p = 0; p < a->n_producer && p < b->n_producer; p++) {
        const Kpsim__Producer *pa = a->producer[p], *pb = b->producer[p];
        const Kpsim__Workload *wa = pa->workload, *wb = pb->workload;
        if (wa && wb && wa->records != wb->records)
            PUT("%srecords of %s %" PRId64 " -> %" PRId64, SEP, pa->name, wa->records, wb->records);
        if (wa && wb && wa->duration_ms != wb->duration_ms)
            PUT("%sduration_ms of %s %" PRId64 " -> %" PRId64, SEP, pa->name, wa->duration_ms, wb->duration_ms);
        if (pa->n_setting != pb->n_setting)
            PUT("%ssettings of %s %zu -> %zu", SEP, pa->name, pa->n_setting, pb->n_setting);
    }
    if (!off)
        PUT("no change");
#undef SEP
#undef PUT
}

int sc_sweep_shrink(const sc_scenario *sc, uint64_t seed, const char *failure, int max_runs,
                    sc_sweep_run_fn run, void *ctx, sc_sweep_shrink_result *res) {
    memset(res, 0, sizeof *res);
    char key[256];
    sc_sweep_failure_key(failure, key, sizeof key);
    const Kpsim__Scenario *orig = sc_scenario_proto(sc);
    Kpsim__Scenario *cur = sc_shrink_copy(orig);
    if (!cur)
        return -1;
    cur->seed = seed;
    cur->has_seed = 1;

    /* the unchanged scenario first: a failure that does not come back is
     * nondeterminism, and shrinking it would chase noise */
    sc_sweep_seed again;
    memset(&again, 0, sizeof again);
    if (max_runs > 0) {
        res->runs++;
        if (run(ctx, sc, seed, &again) && again.verdict != SC_SWEEP_PASS) {
            char akey[256];
            sc_sweep_failure_key(again.failure, akey, sizeof akey);
            res->reproduced = !strcmp(akey, key);
        }
    }
    if (!res->reproduced) {
        res->last_fail = again;
        res->budget_exhausted = max_runs <= 0;
        sc_shrink_summary(orig, cur, res->summary, sizeof res->summary);
        res->scenario = cur;
        return 0;
    }
    res->last_fail = again;

    enum { MAX_OPS = 4096 };
    sc_shrink_op *ops = malloc(MAX_OPS * sizeof *ops);
    if (!ops) {
        sc_shrink_free(cur);
        return -1;
    }
    bool progress = true;
    while (progress && !res->budget_exhausted) {
        progress = false;
        for (size_t k = 0;;) {
            size_t nops = sc_shrink_ops(cur, ops, MAX_OPS);
            if (k >= nops)
                break;
            if (res->runs >= max_runs) {
                res->budget_exhausted = true;
                break;
            }
            Kpsim__Scenario *cand = sc_shrink_copy(cur);
            if (!cand) {
                free(ops);
                sc_shrink_free(cur);
                return -1;
            }
            sc_shrink_apply(cand, ops[k]);
            sc_error err;
            sc_scenario *csc = sc_sweep_scenario_from_proto(cand, "<shrink candidate>", &err);
            bool same = false;
            sc_sweep_seed out;
            if (csc) {
                res->runs++;
                if (run(ctx, csc, seed, &out) && out.verdict != SC_SWEEP_PASS) {
                    char ckey[256];
                    sc_sweep_failure_key(out.failure, ckey, sizeof ckey);
                    same = !strcmp(ckey, key);
                }
                sc_scenario_free(csc);
            }
            if (same) {
                sc_shrink_free(cur);
                cur = cand;
                res->kept++;
                res->last_fail = out;
                progress = true;
                /* stay at k: the next fault slid into it, or halve again */
            } else {
                sc_shrink_free(cand);
                k++;
            }
        }
    }
    free(ops);
    sc_shrink_summary(orig, cur, res->summary, sizeof res->summary);
    res->scenario = cur;
    return 0;
}
