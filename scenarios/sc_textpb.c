/*
 * sc_textpb.c — protobuf text format -> protobuf-c message, with positions.
 *
 * Two parts: a lexer that turns bytes into tokens with their line:column
 * (strings are only delimited here and decoded when a field wants them,
 * so a bad escape is reported at its own column), and a recursive-descent
 * parser that walks the descriptor of the message being filled and stores
 * each value exactly where protobuf-c's unpacker would (has_ flags, oneof
 * case, n_ counts, malloc'd arrays and strings).
 *
 * Invariants:
 * - Every sub-message is linked into its parent before its body is parsed,
 *   so on any error freeing the root frees everything (no leak, no double
 *   free: protobuf_c_message_free_unpacked frees exactly what we malloc'd).
 * - The positions table has one record per message built; a field's first
 *   occurrence marks it "seen" for the duplicate and oneof checks.
 * - Nesting is bounded by SC_TEXTPB_MAX_DEPTH, so hostile input cannot
 *   exhaust the stack; lengths come from the caller, the text need not be
 *   NUL-terminated, and the lexer never reads past `len`.
 *
 * Memory: see sc_textpb.h. The parser's scratch buffer (decoded strings)
 * is freed before returning.
 */
#include "sc_textpb.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ======================================================================
 * Errors
 * ==================================================================== */

void sc_error_vset(sc_error *err, const char *file, sc_pos pos, const char *fmt, va_list ap) {
    if (!err)
        return;
    vsnprintf(err->what, sizeof err->what, fmt, ap);
    err->line = pos.line;
    err->column = pos.column;
    if (pos.line > 0)
        snprintf(err->text, sizeof err->text, "%s:%d:%d: %s", file ? file : "<input>", pos.line,
                 pos.column, err->what);
    else
        snprintf(err->text, sizeof err->text, "%s: %s", file ? file : "<input>", err->what);
}

void sc_error_set(sc_error *err, const char *file, sc_pos pos, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sc_error_vset(err, file, pos, fmt, ap);
    va_end(ap);
}

/* ======================================================================
 * Positions table
 * ==================================================================== */

typedef struct sc__fpos {
    sc_pos name;
    sc_pos value;
} sc__fpos;

typedef struct sc__fposv {   /* the occurrences of one field, file order */
    sc__fpos *v;
    size_t n, cap;
} sc__fposv;

typedef struct sc__msgrec {
    const ProtobufCMessage *msg;
    sc_pos open;
    unsigned n_fields;
    sc__fposv *fields;       /* n_fields entries */
} sc__msgrec;

struct sc_positions {
    sc__msgrec *recs;
    size_t n, cap;
    bool sorted;             /* by msg address, for bsearch */
};

void sc_positions_free(sc_positions *pos) {
    if (!pos)
        return;
    for (size_t i = 0; i < pos->n; i++) {
        for (unsigned f = 0; f < pos->recs[i].n_fields; f++)
            free(pos->recs[i].fields[f].v);
        free(pos->recs[i].fields);
    }
    free(pos->recs);
    free(pos);
}

/* Returns the index of the new record, or -1 when out of memory. */
static long sc__pos_add_msg(sc_positions *pos, const ProtobufCMessage *msg, sc_pos open) {
    if (pos->n == pos->cap) {
        size_t cap = pos->cap ? pos->cap * 2 : 16;
        sc__msgrec *r = realloc(pos->recs, cap * sizeof *r);
        if (!r)
            return -1;
        pos->recs = r;
        pos->cap = cap;
    }
    unsigned nf = msg->descriptor->n_fields;
    sc__fposv *fields = calloc(nf ? nf : 1, sizeof *fields);
    if (!fields)
        return -1;
    pos->recs[pos->n] = (sc__msgrec){ .msg = msg, .open = open, .n_fields = nf, .fields = fields };
    return (long)pos->n++;
}

static bool sc__pos_add_field(sc_positions *pos, long rec, unsigned field, sc_pos name, sc_pos value) {
    sc__fposv *fv = &pos->recs[rec].fields[field];
    if (fv->n == fv->cap) {
        size_t cap = fv->cap ? fv->cap * 2 : 2;
        sc__fpos *v = realloc(fv->v, cap * sizeof *v);
        if (!v)
            return false;
        fv->v = v;
        fv->cap = cap;
    }
    fv->v[fv->n++] = (sc__fpos){ name, value };
    return true;
}

static int sc__rec_cmp(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const sc__msgrec *)a)->msg, y = (uintptr_t)((const sc__msgrec *)b)->msg;
    return x < y ? -1 : x > y;
}

static const sc__msgrec *sc__pos_find(const sc_positions *pos, const ProtobufCMessage *msg) {
    if (!pos || !msg)
        return NULL;
    if (pos->sorted) {
        sc__msgrec key = { .msg = msg };
        return bsearch(&key, pos->recs, pos->n, sizeof *pos->recs, sc__rec_cmp);
    }
    for (size_t i = 0; i < pos->n; i++)
        if (pos->recs[i].msg == msg)
            return &pos->recs[i];
    return NULL;
}

bool sc_positions_field(const sc_positions *pos, const ProtobufCMessage *msg, const char *field,
                        size_t index, sc_pos *name_pos, sc_pos *value_pos) {
    sc_pos none = { 0, 0 };
    if (name_pos)
        *name_pos = none;
    if (value_pos)
        *value_pos = none;
    const sc__msgrec *r = sc__pos_find(pos, msg);
    if (!r)
        return false;
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        if (strcmp(d->fields[i].name, field) != 0)
            continue;
        if (i >= r->n_fields || index >= r->fields[i].n)
            return false;
        if (name_pos)
            *name_pos = r->fields[i].v[index].name;
        if (value_pos)
            *value_pos = r->fields[i].v[index].value;
        return true;
    }
    return false;
}

bool sc_positions_message(const sc_positions *pos, const ProtobufCMessage *msg, sc_pos *open) {
    const sc__msgrec *r = sc__pos_find(pos, msg);
    if (open)
        *open = r ? r->open : (sc_pos){ 0, 0 };
    return r != NULL;
}

/* ======================================================================
 * Nearest name ("did you mean")
 * ==================================================================== */

static int sc__fold(int c) {
    if (c == '.' || c == '-')
        return '_';
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* Optimal string alignment distance over folded characters, capped: the
 * words we compare are identifiers, so 64 characters is plenty. */
static int sc__distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    int d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int cost = sc__fold((unsigned char)a[i - 1]) != sc__fold((unsigned char)b[j - 1]);
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && sc__fold((unsigned char)a[i - 1]) == sc__fold((unsigned char)b[j - 2]) &&
                sc__fold((unsigned char)a[i - 2]) == sc__fold((unsigned char)b[j - 1]) && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *sc_textpb_nearest(const char *word, const void *base, size_t n, size_t stride,
                              size_t name_offset) {
    if (!word || !*word)
        return NULL;
    size_t wl = strlen(word);
    int limit = wl <= 3 ? 1 : wl <= 7 ? 2 : 3;
    const char *best = NULL;
    int best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        const char *cand = *(const char *const *)((const char *)base + i * stride + name_offset);
        if (!cand)
            continue;
        int dist = sc__distance(word, cand);
        if (dist < best_d) {
            best_d = dist;
            best = cand;
        }
    }
    return best;
}

/* ======================================================================
 * Lexer
 * ==================================================================== */

typedef enum sc__tk {
    TK_EOF,
    TK_IDENT,
    TK_NUM,
    TK_STR,
    TK_PUNCT
} sc__tk;

typedef struct sc__tok {
    sc__tk kind;
    char punct;          /* TK_PUNCT: the character */
    sc_pos pos;
    sc_pos end;          /* position just after the token */
    size_t off, len;     /* source span */
} sc__tok;

typedef struct sc__parser {
    const char *name;
    const char *src;
    size_t len;
    size_t off;          /* lexer cursor */
    sc_pos at;           /* position of src[off] */
    sc__tok look;        /* one token of lookahead */
    bool has_look;
    sc_positions *pos;
    sc_error *err;
    int depth;
    char *sbuf;          /* decoded string scratch */
    size_t slen, scap;
} sc__parser;

static bool sc__fail(sc__parser *p, sc_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool sc__fail(sc__parser *p, sc_pos pos, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sc_error_vset(p->err, p->name, pos, fmt, ap);
    va_end(ap);
    return false;
}

/* Advances one byte, keeping line:column (columns count code points). */
static void sc__adv(sc__parser *p) {
    unsigned char c = (unsigned char)p->src[p->off++];
    if (c == '\n') {
        p->at.line++;
        p->at.column = 1;
    } else if ((c & 0xC0) != 0x80) {
        p->at.column++;
    }
    /* a continuation byte belongs to the character already counted; but
     * the column of a character is where its lead byte is, so nothing to
     * undo here */
}

static int sc__peekc(const sc__parser *p, size_t ahead) {
    return p->off + ahead < p->len ? (unsigned char)p->src[p->off + ahead] : -1;
}

static bool sc__is_ident_start(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool sc__is_ident(int c) {
    return sc__is_ident_start(c) || (c >= '0' && c <= '9');
}
static bool sc__is_digit(int c) {
    return c >= '0' && c <= '9';
}

/* Describes a character for an error message. */
static const char *sc__char_desc(int c, char *buf, size_t cap) {
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02X", (unsigned)c);
    return buf;
}

static bool sc__lex(sc__parser *p, sc__tok *t) {
    for (;;) {
        int c = sc__peekc(p, 0);
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
            sc__adv(p);
        } else if (c == '#') {
            while (p->off < p->len && p->src[p->off] != '\n')
                sc__adv(p);
        } else {
            break;
        }
    }
    memset(t, 0, sizeof *t);
    t->pos = p->at;
    t->off = p->off;
    int c = sc__peekc(p, 0);
    if (c < 0) {
        t->kind = TK_EOF;
    } else if (sc__is_ident_start(c)) {
        t->kind = TK_IDENT;
        while (sc__is_ident(sc__peekc(p, 0)))
            sc__adv(p);
    } else if (sc__is_digit(c) || (c == '.' && sc__is_digit(sc__peekc(p, 1)))) {
        /* Greedy: digits, letters, '.', and a sign right after an exponent
         * 'e' of a decimal number; the value parser judges the spelling. */
        t->kind = TK_NUM;
        bool hex = c == '0' && (sc__peekc(p, 1) == 'x' || sc__peekc(p, 1) == 'X');
        for (;;) {
            int d = sc__peekc(p, 0);
            if (sc__is_ident(d) || d == '.') {
                sc__adv(p);
            } else if ((d == '+' || d == '-') && !hex && p->off > t->off &&
                       (p->src[p->off - 1] == 'e' || p->src[p->off - 1] == 'E')) {
                sc__adv(p);
            } else {
                break;
            }
        }
    } else if (c == '"' || c == '\'') {
        t->kind = TK_STR;
        sc__adv(p);
        for (;;) {
            int d = sc__peekc(p, 0);
            if (d < 0 || d == '\n')
                return sc__fail(p, t->pos,
                                "unterminated string: no closing %c before the end of the %s "
                                "(a string cannot span lines; write \\n for a newline)",
                                c, d < 0 ? "file" : "line");
            sc__adv(p);
            if (d == c)
                break;
            if (d == '\\') {
                int e = sc__peekc(p, 0);
                if (e < 0 || e == '\n')
                    return sc__fail(p, t->pos,
                                    "unterminated string: no closing %c before the end of the %s", c,
                                    e < 0 ? "file" : "line");
                sc__adv(p);
            }
        }
    } else if (strchr("{}<>[]:,;-/", c)) {
        t->kind = TK_PUNCT;
        t->punct = (char)c;
        sc__adv(p);
    } else {
        char b[16];
        return sc__fail(p, t->pos, "unexpected %s: expected a field name, a value or one of { } < > [ ] : , ;",
                        sc__char_desc(c, b, sizeof b));
    }
    t->len = p->off - t->off;
    t->end = p->at;
    return true;
}

static bool sc__next(sc__parser *p, sc__tok *t) {
    if (p->has_look) {
        *t = p->look;
        p->has_look = false;
        return true;
    }
    return sc__lex(p, t);
}

static bool sc__peek(sc__parser *p, sc__tok *t) {
    if (!p->has_look) {
        if (!sc__lex(p, &p->look))
            return false;
        p->has_look = true;
    }
    *t = p->look;
    return true;
}

static bool sc__is_punct(const sc__tok *t, char c) {
    return t->kind == TK_PUNCT && t->punct == c;
}

static bool sc__tok_is(const sc__parser *p, const sc__tok *t, const char *word) {
    return t->kind == TK_IDENT && t->len == strlen(word) && memcmp(p->src + t->off, word, t->len) == 0;
}

/* The token as written, quoted for a message: 'word', "a string", end of file. */
static const char *sc__tok_desc(const sc__parser *p, const sc__tok *t, char *buf, size_t cap) {
    if (t->kind == TK_EOF) {
        snprintf(buf, cap, "the end of the file");
        return buf;
    }
    size_t n = t->len > 40 ? 40 : t->len;
    const char *ell = t->len > 40 ? "..." : "";
    if (t->kind == TK_STR)
        snprintf(buf, cap, "%.*s%s", (int)n, p->src + t->off, ell);
    else
        snprintf(buf, cap, "'%.*s%s'", (int)n, p->src + t->off, ell);
    return buf;
}

/* ======================================================================
 * Strings
 * ==================================================================== */

static bool sc__sbuf_put(sc__parser *p, const void *b, size_t n) {
    if (p->slen + n + 1 > p->scap) {
        size_t cap = p->scap ? p->scap : 64;
        while (cap < p->slen + n + 1)
            cap *= 2;
        char *s = realloc(p->sbuf, cap);
        if (!s)
            return false;
        p->sbuf = s;
        p->scap = cap;
    }
    memcpy(p->sbuf + p->slen, b, n);
    p->slen += n;
    p->sbuf[p->slen] = 0;
    return true;
}

static bool sc__put_utf8(sc__parser *p, uint32_t cp) {
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sc__sbuf_put(p, b, n);
}

static int sc__hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends the decoded contents of string token t to p->sbuf. Escapes are
 * reported at their own column (a string lies on one line). */
static bool sc__decode_str(sc__parser *p, const sc__tok *t) {
    const char *s = p->src + t->off;
    size_t n = t->len - 1; /* up to the closing quote */
    sc_pos at = t->pos;
    at.column++;
    size_t i = 1;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c != '\\') {
            if (!sc__sbuf_put(p, &c, 1))
                return sc__fail(p, at, "out of memory");
            if ((c & 0xC0) != 0x80)
                at.column++;
            i++;
            continue;
        }
        sc_pos esc = at;
        int e = (unsigned char)s[i + 1];
        i += 2;
        at.column += 2;
        unsigned char out;
        switch (e) {
        case 'a': out = '\a'; break;
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        case 'v': out = '\v'; break;
        case '\\': out = '\\'; break;
        case '\'': out = '\''; break;
        case '"': out = '"'; break;
        case '?': out = '?'; break;
        case 'x': case 'X': {
            int v = 0, k = 0;
            while (k < 2 && i < n && sc__hexval((unsigned char)s[i]) >= 0) {
                v = v * 16 + sc__hexval((unsigned char)s[i]);
                i++;
                k++;
                at.column++;
            }
            if (k == 0)
                return sc__fail(p, esc, "bad escape '\\x': expected 1 or 2 hex digits after it");
            out = (unsigned char)v;
            break;
        }
        case 'u': case 'U': {
            int want = e == 'u' ? 4 : 8;
            uint32_t v = 0;
            for (int k = 0; k < want; k++) {
                int h = i < n ? sc__hexval((unsigned char)s[i]) : -1;
                if (h < 0)
                    return sc__fail(p, esc, "bad escape '\\%c': expected %d hex digits after it", e, want);
                v = v * 16 + (uint32_t)h;
                i++;
                at.column++;
            }
            if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
                return sc__fail(p, esc, "bad escape '\\%c%0*" PRIX32 "': not a Unicode scalar value", e, want, v);
            if (!sc__put_utf8(p, v))
                return sc__fail(p, at, "out of memory");
            continue;
        }
        default:
            if (e >= '0' && e <= '7') {
                int v = e - '0', k = 1;
                while (k < 3 && i < n && s[i] >= '0' && s[i] <= '7') {
                    v = v * 8 + (s[i] - '0');
                    i++;
                    k++;
                    at.column++;
                }
                if (v > 255)
                    return sc__fail(p, esc, "bad octal escape: \\%o is above \\377", (unsigned)v);
                out = (unsigned char)v;
                break;
            }
            {
                char b[16];
                return sc__fail(p, esc, "unknown escape '\\' followed by %s (known: \\n \\t \\r \\\\ \\\" \\' \\xHH \\NNN \\uXXXX ...)",
                                sc__char_desc(e, b, sizeof b));
            }
        }
        if (!sc__sbuf_put(p, &out, 1))
            return sc__fail(p, at, "out of memory");
    }
    return true;
}

static bool sc__utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

/* ======================================================================
 * Field types
 * ==================================================================== */

const char *sc_textpb_type_name(const ProtobufCFieldDescriptor *fd, char *buf, size_t cap) {
    static const char *const names[] = {
        [PROTOBUF_C_TYPE_INT32] = "int32",       [PROTOBUF_C_TYPE_SINT32] = "sint32",
        [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
        [PROTOBUF_C_TYPE_SINT64] = "sint64",     [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
        [PROTOBUF_C_TYPE_UINT32] = "uint32",     [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
        [PROTOBUF_C_TYPE_UINT64] = "uint64",     [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
        [PROTOBUF_C_TYPE_FLOAT] = "float",       [PROTOBUF_C_TYPE_DOUBLE] = "double",
        [PROTOBUF_C_TYPE_BOOL] = "bool",         [PROTOBUF_C_TYPE_ENUM] = "enum",
        [PROTOBUF_C_TYPE_STRING] = "string",     [PROTOBUF_C_TYPE_BYTES] = "bytes",
        [PROTOBUF_C_TYPE_MESSAGE] = "message",
    };
    const char *tn = (unsigned)fd->type < sizeof names / sizeof names[0] ? names[fd->type] : "?";
    if (fd->type == PROTOBUF_C_TYPE_ENUM)
        snprintf(buf, cap, "enum %s", ((const ProtobufCEnumDescriptor *)fd->descriptor)->name);
    else if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
        snprintf(buf, cap, "message %s", ((const ProtobufCMessageDescriptor *)fd->descriptor)->name);
    else
        snprintf(buf, cap, "%s", tn);
    return buf;
}

static size_t sc__elem_size(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* A decoded scalar, before it is stored. */
typedef union sc__val {
    int64_t i;
    uint64_t u;
    double d;
    protobuf_c_boolean b;
    char *s;                 /* malloc'd, NUL-terminated */
    ProtobufCBinaryData bin; /* malloc'd */
    ProtobufCMessage *m;
} sc__val;

/* Where the value of the next occurrence of fd goes: for a repeated field
 * a new array element (the array grows by doubling at powers of two, so
 * its capacity needs no extra field); otherwise the member itself. Marks
 * presence (has_, oneof case). */
static void *sc__slot(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd) {
    char *base = (char *)msg;
    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t *n = (size_t *)(base + fd->quantifier_offset);
        void **arr = (void **)(base + fd->offset);
        size_t es = sc__elem_size(fd->type);
        if (*n == 0 || (*n & (*n - 1)) == 0) {
            size_t cap = *n ? *n * 2 : 1;
            void *a = realloc(*arr, cap * es);
            if (!a)
                return NULL;
            *arr = a;
        }
        void *slot = (char *)*arr + (*n) * es;
        memset(slot, 0, es);
        (*n)++;
        return slot;
    }
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)(base + fd->quantifier_offset) = fd->id;
    else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->type != PROTOBUF_C_TYPE_STRING &&
             fd->type != PROTOBUF_C_TYPE_MESSAGE && fd->quantifier_offset != 0)
        *(protobuf_c_boolean *)(base + fd->quantifier_offset) = 1;
    return base + fd->offset;
}

static void sc__store(void *slot, const ProtobufCFieldDescriptor *fd, const sc__val *v) {
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM: {
        int32_t x = (int32_t)v->i;
        memcpy(slot, &x, 4);
        break;
    }
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: {
        uint32_t x = (uint32_t)v->u;
        memcpy(slot, &x, 4);
        break;
    }
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        memcpy(slot, &v->i, 8);
        break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        memcpy(slot, &v->u, 8);
        break;
    case PROTOBUF_C_TYPE_FLOAT: {
        float x = (float)v->d;
        memcpy(slot, &x, sizeof x);
        break;
    }
    case PROTOBUF_C_TYPE_DOUBLE:
        memcpy(slot, &v->d, sizeof v->d);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        memcpy(slot, &v->b, sizeof v->b);
        break;
    case PROTOBUF_C_TYPE_STRING:
        memcpy(slot, &v->s, sizeof v->s);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        memcpy(slot, &v->bin, sizeof v->bin);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        memcpy(slot, &v->m, sizeof v->m);
        break;
    }
}

/* ======================================================================
 * Scalar values
 * ==================================================================== */

static bool sc__is_int_type(ProtobufCType t) {
    return t <= PROTOBUF_C_TYPE_FIXED64;
}

static bool sc__is_unsigned(ProtobufCType t) {
    return t == PROTOBUF_C_TYPE_UINT32 || t == PROTOBUF_C_TYPE_FIXED32 || t == PROTOBUF_C_TYPE_UINT64 ||
           t == PROTOBUF_C_TYPE_FIXED64;
}

static bool sc__is_64(ProtobufCType t) {
    return t == PROTOBUF_C_TYPE_INT64 || t == PROTOBUF_C_TYPE_SINT64 || t == PROTOBUF_C_TYPE_SFIXED64 ||
           t == PROTOBUF_C_TYPE_UINT64 || t == PROTOBUF_C_TYPE_FIXED64;
}

/* Parses an integer literal: decimal, 0x hex or 0 octal. Returns 1 ok,
 * 0 not an integer spelling, -1 larger than 2^64-1. */
static int sc__parse_u64(const char *s, size_t n, uint64_t *out) {
    unsigned base = 10;
    size_t i = 0;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
        if (n == 2)
            return 0;
    } else if (n >= 2 && s[0] == '0') {
        base = 8;
        i = 1;
    }
    uint64_t v = 0;
    bool overflow = false;
    for (; i < n; i++) {
        int d = sc__hexval((unsigned char)s[i]);
        if (d < 0 || (unsigned)d >= base)
            return 0;
        if (v > (UINT64_MAX - (unsigned)d) / base)
            overflow = true;
        else
            v = v * base + (unsigned)d;
    }
    if (overflow)
        return -1;
    *out = v;
    return 1;
}

static bool sc__parse_scalar(sc__parser *p, const ProtobufCFieldDescriptor *fd, const sc__tok *colon,
                             const ProtobufCMessageDescriptor *owner, sc__val *out, sc_pos *vpos);

/* True when t looks like the next field rather than this field's value:
 * a field name of the enclosing message on a later line than the ':'. */
static bool sc__looks_like_next_field(const sc__parser *p, const sc__tok *t, const sc__tok *colon,
                                      const ProtobufCMessageDescriptor *owner) {
    if (t->kind != TK_IDENT || t->pos.line == colon->pos.line)
        return false;
    for (unsigned i = 0; i < owner->n_fields; i++)
        if (strlen(owner->fields[i].name) == t->len && !memcmp(owner->fields[i].name, p->src + t->off, t->len))
            return true;
    return false;
}

static bool sc__parse_scalar(sc__parser *p, const ProtobufCFieldDescriptor *fd, const sc__tok *colon,
                             const ProtobufCMessageDescriptor *owner, sc__val *out, sc_pos *vpos) {
    char tn[160], desc[64];
    sc_textpb_type_name(fd, tn, sizeof tn);
    sc__tok t;
    if (!sc__next(p, &t))
        return false;
    *vpos = t.pos;
    sc_pos after_colon = colon->end;
    if (t.kind == TK_EOF || (t.kind == TK_PUNCT && strchr("}>],;:", t.punct)) ||
        sc__looks_like_next_field(p, &t, colon, owner))
        return sc__fail(p, after_colon, "missing value for field '%s' (%s) after ':'; found %s", fd->name, tn,
                        sc__tok_desc(p, &t, desc, sizeof desc));

    bool neg = false;
    sc__tok minus = t;
    if (sc__is_punct(&t, '-')) {
        neg = true;
        if (!sc__next(p, &t))
            return false;
        if (t.kind != TK_NUM && t.kind != TK_IDENT)
            return sc__fail(p, t.pos, "expected a number after '-' for field '%s' (%s), got %s", fd->name, tn,
                            sc__tok_desc(p, &t, desc, sizeof desc));
    }
    const char *s = p->src + t.off;
    memset(out, 0, sizeof *out);

    if (sc__is_int_type(fd->type)) {
        uint64_t u = 0;
        int r = t.kind == TK_NUM ? sc__parse_u64(s, t.len, &u) : 0;
        if (r == 0)
            return sc__fail(p, neg ? minus.pos : t.pos, "expected an integer for field '%s' (%s), got %s%s",
                            fd->name, tn, neg ? "-" : "", sc__tok_desc(p, &t, desc, sizeof desc));
        bool uns = sc__is_unsigned(fd->type), wide = sc__is_64(fd->type);
        const char *range = uns ? (wide ? "0..18446744073709551615" : "0..4294967295")
                                : (wide ? "-9223372036854775808..9223372036854775807"
                                        : "-2147483648..2147483647");
        bool ok;
        if (r < 0)
            ok = false;
        else if (uns)
            ok = (!neg || u == 0) && (wide || u <= UINT32_MAX);
        else if (neg)
            ok = u <= (wide ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT32_MAX + 1);
        else
            ok = u <= (wide ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX);
        if (!ok)
            return sc__fail(p, neg ? minus.pos : t.pos, "value %s%.*s is out of range for field '%s' (%s: %s)",
                            neg ? "-" : "", (int)(t.len > 40 ? 40 : t.len), s, fd->name, tn, range);
        if (uns)
            out->u = u;
        else
            out->i = neg ? (int64_t)(0 - u) : (int64_t)u;
        return true;
    }

    switch (fd->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double d;
        if (t.kind == TK_IDENT) {
            char w[16] = { 0 };
            memcpy(w, s, t.len < sizeof w - 1 ? t.len : sizeof w - 1);
            if (t.len < sizeof w && (!strcasecmp(w, "inf") || !strcasecmp(w, "infinity")))
                d = INFINITY;
            else if (t.len < sizeof w && !strcasecmp(w, "nan"))
                d = NAN;
            else
                return sc__fail(p, neg ? minus.pos : t.pos, "expected a number for field '%s' (%s), got %s%s",
                                fd->name, tn, neg ? "-" : "", sc__tok_desc(p, &t, desc, sizeof desc));
        } else {
            char w[128];
            size_t n = t.len;
            if (n >= sizeof w)
                return sc__fail(p, t.pos, "number too long for field '%s' (%s)", fd->name, tn);
            memcpy(w, s, n);
            w[n] = 0;
            if (n > 1 && (w[n - 1] == 'f' || w[n - 1] == 'F') && !(w[0] == '0' && (w[1] == 'x' || w[1] == 'X')))
                w[--n] = 0;
            uint64_t u;
            int r = sc__parse_u64(w, n, &u);
            bool dec_ok = true;
            for (size_t i = 0; i < n; i++)
                if (!(sc__is_digit((unsigned char)w[i]) || w[i] == '.' || w[i] == 'e' || w[i] == 'E' ||
                      w[i] == '+' || w[i] == '-'))
                    dec_ok = false;
            char *end = NULL;
            errno = 0;
            if (r == 1 && (w[0] != '0' || n == 1 || w[1] == 'x' || w[1] == 'X')) {
                d = (double)u;
            } else if (dec_ok && (d = strtod(w, &end), end && *end == 0)) {
                /* decimal float */
            } else {
                return sc__fail(p, neg ? minus.pos : t.pos, "expected a number for field '%s' (%s), got %s%s",
                                fd->name, tn, neg ? "-" : "", sc__tok_desc(p, &t, desc, sizeof desc));
            }
            if (isinf(d) || (fd->type == PROTOBUF_C_TYPE_FLOAT && fabs(d) > FLT_MAX))
                return sc__fail(p, neg ? minus.pos : t.pos, "value %s%s is out of range for field '%s' (%s)",
                                neg ? "-" : "", w, fd->name, tn);
        }
        out->d = neg ? -d : d;
        return true;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (!neg && (sc__tok_is(p, &t, "true") || sc__tok_is(p, &t, "True") || sc__tok_is(p, &t, "t") ||
                     (t.kind == TK_NUM && t.len == 1 && *s == '1'))) {
            out->b = 1;
            return true;
        }
        if (!neg && (sc__tok_is(p, &t, "false") || sc__tok_is(p, &t, "False") || sc__tok_is(p, &t, "f") ||
                     (t.kind == TK_NUM && t.len == 1 && *s == '0'))) {
            out->b = 0;
            return true;
        }
        return sc__fail(p, neg ? minus.pos : t.pos, "expected true or false for field '%s' (bool), got %s%s",
                        fd->name, neg ? "-" : "", sc__tok_desc(p, &t, desc, sizeof desc));
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = fd->descriptor;
        if (t.kind == TK_IDENT && !neg) {
            for (unsigned i = 0; i < ed->n_values; i++) {
                if (strlen(ed->values[i].name) == t.len && !memcmp(ed->values[i].name, s, t.len)) {
                    out->i = ed->values[i].value;
                    return true;
                }
            }
            char word[64];
            snprintf(word, sizeof word, "%.*s", (int)(t.len > 60 ? 60 : t.len), s);
            const char *near = sc_textpb_nearest(word, ed->values, ed->n_values, sizeof ed->values[0],
                                                 offsetof(ProtobufCEnumValue, name));
            char list[512];
            size_t k = 0;
            list[0] = 0;
            for (unsigned i = 0; i < ed->n_values && k < sizeof list - 1; i++)
                k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", ed->values[i].name);
            if (near)
                return sc__fail(p, t.pos, "unknown value '%s' for field '%s' (enum %s); did you mean '%s'?", word,
                                fd->name, ed->name, near);
            return sc__fail(p, t.pos, "unknown value '%s' for field '%s' (enum %s); valid values: %s", word,
                            fd->name, ed->name, list);
        }
        uint64_t u;
        if (t.kind == TK_NUM && sc__parse_u64(s, t.len, &u) == 1 && u <= (uint64_t)INT32_MAX + neg) {
            int64_t v = neg ? -(int64_t)u : (int64_t)u;
            if (protobuf_c_enum_descriptor_get_value(ed, (int)v)) {
                out->i = v;
                return true;
            }
            return sc__fail(p, neg ? minus.pos : t.pos, "%" PRId64 " is not a value of enum %s (field '%s')", v,
                            ed->name, fd->name);
        }
        return sc__fail(p, neg ? minus.pos : t.pos, "expected a value name of enum %s for field '%s', got %s%s",
                        ed->name, fd->name, neg ? "-" : "", sc__tok_desc(p, &t, desc, sizeof desc));
    }
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES: {
        if (t.kind != TK_STR || neg)
            return sc__fail(p, neg ? minus.pos : t.pos,
                            "expected a quoted string for field '%s' (%s), got %s%s; write it in \"...\"", fd->name,
                            tn, neg ? "-" : "", sc__tok_desc(p, &t, desc, sizeof desc));
        p->slen = 0;
        if (!sc__sbuf_put(p, "", 0))
            return sc__fail(p, t.pos, "out of memory");
        for (;;) {
            if (!sc__decode_str(p, &t))
                return false;
            sc__tok nx;
            if (!sc__peek(p, &nx))
                return false;
            if (nx.kind != TK_STR)
                break;
            sc__next(p, &t);
        }
        if (fd->type == PROTOBUF_C_TYPE_STRING && !sc__utf8_valid((const unsigned char *)p->sbuf, p->slen))
            return sc__fail(p, *vpos, "string for field '%s' is not valid UTF-8 (use bytes escapes only in bytes fields)",
                            fd->name);
        if (fd->type == PROTOBUF_C_TYPE_STRING && memchr(p->sbuf, 0, p->slen))
            return sc__fail(p, *vpos, "string for field '%s' contains a NUL character", fd->name);
        char *copy = malloc(p->slen + 1);
        if (!copy)
            return sc__fail(p, t.pos, "out of memory");
        memcpy(copy, p->sbuf, p->slen + 1);
        if (fd->type == PROTOBUF_C_TYPE_STRING) {
            out->s = copy;
        } else {
            out->bin.data = (uint8_t *)copy;
            out->bin.len = p->slen;
        }
        return true;
    }
    default:
        return sc__fail(p, t.pos, "internal: field '%s' has an unsupported type", fd->name);
    }
}

/* ======================================================================
 * Messages
 * ==================================================================== */

static bool sc__parse_body(sc__parser *p, ProtobufCMessage *msg, long rec, char close, const sc__tok *open,
                           const char *field_name);

/* Creates a sub-message for fd, links it into msg, parses its body. `open`
 * is the '{' or '<' token already consumed. */
static bool sc__parse_submsg(sc__parser *p, ProtobufCMessage *msg, long rec, const ProtobufCFieldDescriptor *fd,
                             unsigned fidx, sc_pos name_pos, const sc__tok *open) {
    if (p->depth >= SC_TEXTPB_MAX_DEPTH)
        return sc__fail(p, open->pos, "messages nested deeper than %d levels", SC_TEXTPB_MAX_DEPTH);
    const ProtobufCMessageDescriptor *sd = fd->descriptor;
    ProtobufCMessage *sub = malloc(sd->sizeof_message);
    if (!sub)
        return sc__fail(p, open->pos, "out of memory");
    sd->message_init(sub);
    void *slot = sc__slot(msg, fd);
    if (!slot) {
        free(sub);
        return sc__fail(p, open->pos, "out of memory");
    }
    sc__val v = { .m = sub };
    sc__store(slot, fd, &v);
    if (!sc__pos_add_field(p->pos, rec, fidx, name_pos, open->pos))
        return sc__fail(p, open->pos, "out of memory");
    long sub_rec = sc__pos_add_msg(p->pos, sub, open->pos);
    if (sub_rec < 0)
        return sc__fail(p, open->pos, "out of memory");
    p->depth++;
    bool ok = sc__parse_body(p, sub, sub_rec, open->punct == '{' ? '}' : '>', open, fd->name);
    p->depth--;
    return ok;
}

static bool sc__store_scalar(sc__parser *p, ProtobufCMessage *msg, long rec, const ProtobufCFieldDescriptor *fd,
                             unsigned fidx, sc_pos name_pos, sc_pos vpos, sc__val *v) {
    void *slot = sc__slot(msg, fd);
    if (!slot) {
        if (fd->type == PROTOBUF_C_TYPE_STRING)
            free(v->s);
        else if (fd->type == PROTOBUF_C_TYPE_BYTES)
            free(v->bin.data);
        return sc__fail(p, vpos, "out of memory");
    }
    sc__store(slot, fd, v);
    if (!sc__pos_add_field(p->pos, rec, fidx, name_pos, vpos))
        return sc__fail(p, vpos, "out of memory");
    return true;
}

static bool sc__unknown_field(sc__parser *p, const ProtobufCMessageDescriptor *d, const sc__tok *t) {
    char word[80];
    snprintf(word, sizeof word, "%.*s", (int)(t->len > 70 ? 70 : t->len), p->src + t->off);
    const char *near =
        sc_textpb_nearest(word, d->fields, d->n_fields, sizeof d->fields[0], offsetof(ProtobufCFieldDescriptor, name));
    if (near)
        return sc__fail(p, t->pos, "unknown field '%s' in %s; did you mean '%s'?", word, d->name, near);
    char list[600];
    size_t k = 0;
    list[0] = 0;
    for (unsigned i = 0; i < d->n_fields && k < sizeof list - 1; i++)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", d->fields[i].name);
    return sc__fail(p, t->pos, "unknown field '%s' in %s; valid fields: %s", word, d->name,
                    d->n_fields ? list : "(none)");
}

static bool sc__parse_field(sc__parser *p, ProtobufCMessage *msg, long rec, const sc__tok *name) {
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    char tn[160], desc[64];
    unsigned fidx = d->n_fields;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (strlen(d->fields[i].name) == name->len && !memcmp(d->fields[i].name, p->src + name->off, name->len))
            fidx = i;
    if (fidx == d->n_fields)
        return sc__unknown_field(p, d, name);
    const ProtobufCFieldDescriptor *fd = &d->fields[fidx];
    bool repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;
    const sc__msgrec *r = &p->pos->recs[rec];
    if (!repeated && r->fields[fidx].n > 0) {
        sc_pos first = r->fields[fidx].v[0].name;
        return sc__fail(p, name->pos, "field '%s' is set twice (first at %d:%d); it is not a repeated field", fd->name,
                        first.line, first.column);
    }
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        for (unsigned i = 0; i < d->n_fields; i++) {
            const ProtobufCFieldDescriptor *o = &d->fields[i];
            if (i != fidx && (o->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                o->quantifier_offset == fd->quantifier_offset && r->fields[i].n > 0) {
                sc_pos first = r->fields[i].v[0].name;
                return sc__fail(p, name->pos,
                                "field '%s' cannot be set together with '%s' (set at %d:%d): a %s holds only one of them",
                                fd->name, o->name, first.line, first.column, d->short_name);
            }
        }
    }

    sc__tok t;
    if (!sc__next(p, &t))
        return false;
    sc__tok colon = t;
    bool has_colon = sc__is_punct(&t, ':');
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (has_colon && !sc__next(p, &t))
            return false;
        if (sc__is_punct(&t, '[')) {
            if (!repeated)
                return sc__fail(p, t.pos, "field '%s' is not repeated; a [ ... ] list is only for repeated fields",
                                fd->name);
            sc__tok x;
            if (!sc__peek(p, &x))
                return false;
            if (sc__is_punct(&x, ']'))
                return sc__next(p, &x);
            for (;;) {
                if (!sc__next(p, &x))
                    return false;
                if (!sc__is_punct(&x, '{') && !sc__is_punct(&x, '<'))
                    return sc__fail(p, x.pos, "expected '{' to open the next %s in the list for field '%s', got %s",
                                    ((const ProtobufCMessageDescriptor *)fd->descriptor)->name, fd->name,
                                    sc__tok_desc(p, &x, desc, sizeof desc));
                if (!sc__parse_submsg(p, msg, rec, fd, fidx, name->pos, &x))
                    return false;
                if (!sc__next(p, &x))
                    return false;
                if (sc__is_punct(&x, ']'))
                    return true;
                if (!sc__is_punct(&x, ','))
                    return sc__fail(p, x.pos, "expected ',' or ']' in the list for field '%s', got %s", fd->name,
                                    sc__tok_desc(p, &x, desc, sizeof desc));
            }
        }
        if (sc__is_punct(&t, '{') || sc__is_punct(&t, '<'))
            return sc__parse_submsg(p, msg, rec, fd, fidx, name->pos, &t);
        if (has_colon && (t.kind == TK_EOF || (t.kind == TK_PUNCT && strchr("}>],;", t.punct))))
            return sc__fail(p, colon.end, "missing value for field '%s' (%s) after ':'; expected '{'", fd->name,
                            sc_textpb_type_name(fd, tn, sizeof tn));
        return sc__fail(p, t.pos, "expected '{' to open field '%s' (%s), got %s", fd->name,
                        sc_textpb_type_name(fd, tn, sizeof tn), sc__tok_desc(p, &t, desc, sizeof desc));
    }

    if (!has_colon) {
        if (t.kind == TK_EOF || sc__is_punct(&t, '}') || sc__is_punct(&t, '>') || sc__is_punct(&t, ',') ||
            sc__is_punct(&t, ';'))
            return sc__fail(p, name->end, "missing ':' and value for field '%s' (%s)", fd->name,
                            sc_textpb_type_name(fd, tn, sizeof tn));
        return sc__fail(p, t.pos, "expected ':' after field name '%s' (%s), got %s", fd->name,
                        sc_textpb_type_name(fd, tn, sizeof tn), sc__tok_desc(p, &t, desc, sizeof desc));
    }
    sc__tok x;
    if (!sc__peek(p, &x))
        return false;
    if (sc__is_punct(&x, '[')) {
        sc__next(p, &x);
        if (!repeated)
            return sc__fail(p, x.pos, "field '%s' is not repeated; a [ ... ] list is only for repeated fields",
                            fd->name);
        if (!sc__peek(p, &x))
            return false;
        if (sc__is_punct(&x, ']'))
            return sc__next(p, &x);
        for (;;) {
            sc__val v;
            sc_pos vpos;
            if (!sc__parse_scalar(p, fd, &colon, d, &v, &vpos))
                return false;
            if (!sc__store_scalar(p, msg, rec, fd, fidx, name->pos, vpos, &v))
                return false;
            if (!sc__next(p, &x))
                return false;
            if (sc__is_punct(&x, ']'))
                return true;
            if (!sc__is_punct(&x, ','))
                return sc__fail(p, x.pos, "expected ',' or ']' in the list for field '%s', got %s", fd->name,
                                sc__tok_desc(p, &x, desc, sizeof desc));
            colon = x; /* a missing element is reported after the ',' */
        }
    }
    sc__val v;
    sc_pos vpos;
    if (!sc__parse_scalar(p, fd, &colon, d, &v, &vpos))
        return false;
    return sc__store_scalar(p, msg, rec, fd, fidx, name->pos, vpos, &v);
}

/* Parses fields until `close` ('}' or '>'; 0 = end of file). */
static bool sc__parse_body(sc__parser *p, ProtobufCMessage *msg, long rec, char close, const sc__tok *open,
                           const char *field_name) {
    char desc[64];
    for (;;) {
        sc__tok t;
        if (!sc__next(p, &t))
            return false;
        if (t.kind == TK_EOF) {
            if (!close)
                return true;
            return sc__fail(p, open->pos, "'%c' opening field '%s' is never closed: the file ends before its '%c'",
                            open->punct, field_name, close);
        }
        if (close && sc__is_punct(&t, close))
            return true;
        if (sc__is_punct(&t, '}') || sc__is_punct(&t, '>')) {
            if (!close)
                return sc__fail(p, t.pos, "unexpected '%c': no '{' or '<' is open here", t.punct);
            return sc__fail(p, t.pos, "expected '%c' to close '%c' of field '%s' (opened at %d:%d), got '%c'", close,
                            open->punct, field_name, open->pos.line, open->pos.column, t.punct);
        }
        if (sc__is_punct(&t, '['))
            return sc__fail(p, t.pos, "extension and Any fields ('[...]') are not supported; expected a field name of %s",
                            msg->descriptor->name);
        if (t.kind != TK_IDENT)
            return sc__fail(p, t.pos, "expected a field name of %s, got %s", msg->descriptor->name,
                            sc__tok_desc(p, &t, desc, sizeof desc));
        if (!sc__parse_field(p, msg, rec, &t))
            return false;
        sc__tok sep;
        if (!sc__peek(p, &sep))
            return false;
        if (sc__is_punct(&sep, ',') || sc__is_punct(&sep, ';'))
            sc__next(p, &sep);
    }
}

ProtobufCMessage *sc_textpb_parse(const ProtobufCMessageDescriptor *desc, const char *name, const char *text,
                                  size_t len, sc_positions **pos_out, sc_error *err) {
    if (pos_out)
        *pos_out = NULL;
    sc__parser p = { .name = name, .src = text ? text : "", .len = text ? len : 0, .at = { 1, 1 }, .err = err };
    p.pos = calloc(1, sizeof *p.pos);
    ProtobufCMessage *msg = malloc(desc->sizeof_message);
    if (!p.pos || !msg) {
        free(p.pos);
        free(msg);
        sc_error_set(err, name, (sc_pos){ 0, 0 }, "out of memory");
        return NULL;
    }
    desc->message_init(msg);
    /* a UTF-8 byte order mark (some editors write one) is not content */
    if (p.len >= 3 && !memcmp(p.src, "\xEF\xBB\xBF", 3))
        p.off = 3;
    sc__tok top = { .kind = TK_PUNCT, .pos = { 1, 1 } };
    long rec = sc__pos_add_msg(p.pos, msg, top.pos);
    bool ok = rec >= 0;
    if (!ok)
        sc_error_set(err, name, (sc_pos){ 0, 0 }, "out of memory");
    else
        ok = sc__parse_body(&p, msg, rec, 0, &top, desc->name);
    free(p.sbuf);
    if (!ok) {
        protobuf_c_message_free_unpacked(msg, NULL);
        sc_positions_free(p.pos);
        return NULL;
    }
    qsort(p.pos->recs, p.pos->n, sizeof *p.pos->recs, sc__rec_cmp);
    p.pos->sorted = true;
    if (pos_out)
        *pos_out = p.pos;
    else
        sc_positions_free(p.pos);
    return msg;
}
