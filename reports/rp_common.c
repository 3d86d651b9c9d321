/*
 * rp_common.c — small helpers the formatters, the report and explain share
 * (declared in rp_internal.h): an event's component, kind labels, exact
 * millisecond printing, JSON string escaping.
 */
#include "rp_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *rp__event_component(const rp_trace_header *h, const rp_event *e) {
    if (e->component && *e->component)
        return e->component;
    for (size_t i = 0; i < h->n_kinds; i++)
        if (h->kinds[i].kind == e->ev.kind) {
            if (h->kinds[i].component && *h->kinds[i].component)
                return h->kinds[i].component;
            if (h->kinds[i].layer && *h->kinds[i].layer)
                return h->kinds[i].layer;
            break;
        }
    return "unknown";
}

const char *rp__kind_label(const rp_event *e, char *buf, size_t len) {
    if (e->kind_name)
        return e->kind_name;
    snprintf(buf, len, "kind_%d", e->ev.kind);
    return buf;
}

void rp__ms3(char *buf, size_t len, int64_t us) {
    /* integer arithmetic: no rounding surprises, same text everywhere */
    uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    snprintf(buf, len, "%s%" PRIu64 ".%03u", us < 0 ? "-" : "", a / 1000, (unsigned)(a % 1000));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
size_t rp__utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        min = 0x80;
        c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        min = 0x800;
        c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also stops at the NUL */
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return n;
}

void rp__json_str(FILE *f, const char *str) {
    if (!str) {
        fputs("null", f);
        return;
    }
    const unsigned char *s = (const unsigned char *)str;
    putc('"', f);
    while (*s) {
        unsigned char c = *s;
        if (c == '"' || c == '\\') {
            putc('\\', f);
            putc(c, f);
            s++;
        } else if (c == '\n') {
            fputs("\\n", f);
            s++;
        } else if (c == '\t') {
            fputs("\\t", f);
            s++;
        } else if (c == '\r') {
            fputs("\\r", f);
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            s++;
        } else {
            size_t n = rp__utf8_len(s);
            if (n == 0) {
                fputs("\\ufffd", f);
                s++;
            } else {
                fwrite(s, 1, n, f);
                s += n;
            }
        }
    }
    putc('"', f);
}
