/*
 * sc_textpb.h — a reader for protobuf TEXT format over protobuf-c's
 * descriptors, with a position (line:column) kept for every field it reads.
 *
 * Why our own: protoc --encode loses positions and says little about what
 * was wrong; protobuf-c has no text format at all. Scenario files are
 * written by people, so every error says FILE:LINE:COLUMN and what was
 * expected there (sc_error).
 *
 * Grammar accepted (the protobuf text format, minus extensions and Any):
 *
 *   body    := { field [ "," | ";" ] }
 *   field   := NAME [":"] ( "{" body "}" | "<" body ">" )          message
 *            | NAME [":"] "[" [ msg { "," msg } ] "]"              repeated message
 *            | NAME ":" value                                       scalar
 *            | NAME ":" "[" [ value { "," value } ] "]"             repeated scalar
 *   value   := ["-"] NUMBER | IDENT | STRING { STRING }
 *   comment := "#" to the end of the line
 *
 * Integers: decimal, 0x hex, 0 octal, range-checked for the field's type.
 * Floats: decimal with optional exponent and f suffix; inf, nan. Bools:
 * true/True/t/false/False/f/1/0. Enums by value name or number. Strings in
 * '...' or "..." with C escapes (\a \b \f \n \r \t \v \\ \' \" \? \NNN
 * \xHH \uXXXX \UXXXXXXXX), adjacent strings concatenated, UTF-8 checked for
 * string (not bytes) fields. Columns count characters (UTF-8 code points),
 * tabs count one; lines and columns start at 1.
 *
 * Errors (the first one stops the parse): unknown field (with the nearest
 * valid name or the list of valid names), a value of the wrong type or out
 * of range, an unterminated string, a bad escape, unbalanced or mismatched
 * braces, a non-repeated field given twice, two members of one oneof, a
 * missing value, nesting deeper than SC_TEXTPB_MAX_DEPTH.
 *
 * Memory: sc_textpb_parse returns a message allocated with malloc — the
 * message, every sub-message, string and repeated array — in exactly the
 * layout protobuf-c's own unpacker produces, so the caller frees it with
 * protobuf_c_message_free_unpacked(msg, NULL). The positions table is owned
 * by the caller (sc_positions_free). It keys on message addresses, which
 * stay valid until the message is freed; it keeps no pointer into the text.
 * On error nothing is returned and nothing leaks.
 */
#ifndef SC_TEXTPB_H
#define SC_TEXTPB_H

#include <protobuf-c/protobuf-c.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define SC_TEXTPB_MAX_DEPTH 32

/* A place in a file: 1-based line and column; 0:0 = no position known. */
typedef struct sc_pos {
    int line;
    int column;
} sc_pos;

/* One error, ready to print. `text` is "FILE:LINE:COLUMN: what" (or
 * "FILE: what" when there is no position). The scenarios layer uses this
 * type for every error a person must act on. */
typedef struct sc_error {
    int line;            /* 0 when unknown */
    int column;
    char what[768];      /* the message alone */
    char text[1024];     /* with the file and position */
} sc_error;

/* Fills *err (which may be NULL: then nothing happens). `file` names the
 * input ("scenarios/catalog/x.textpb", "--set"). */
void sc_error_set(sc_error *err, const char *file, sc_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sc_error_vset(sc_error *err, const char *file, sc_pos pos, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Where each field of each parsed message was written. */
typedef struct sc_positions sc_positions;

void sc_positions_free(sc_positions *pos); /* NULL ok */

/* Position of the `index`-th value (0-based, in file order) of `field` in
 * `msg`: the field name's position and the value's (for a message field,
 * the value position is its opening brace). False when the field was not
 * written in the file (then both are 0:0). */
bool sc_positions_field(const sc_positions *pos, const ProtobufCMessage *msg, const char *field,
                        size_t index, sc_pos *name_pos, sc_pos *value_pos);

/* Position of the brace that opened `msg` (1:1 for the top message). */
bool sc_positions_message(const sc_positions *pos, const ProtobufCMessage *msg, sc_pos *open);

/* Parses `text` (len bytes, need not be NUL-terminated) as one message of
 * type `desc`. `name` is the file name used in errors. On success returns
 * the message and, if `pos_out` is not NULL, a new positions table in
 * *pos_out. On error returns NULL, fills *err, and sets *pos_out to NULL. */
ProtobufCMessage *sc_textpb_parse(const ProtobufCMessageDescriptor *desc, const char *name,
                                  const char *text, size_t len, sc_positions **pos_out,
                                  sc_error *err);

/* The candidate nearest to `word` by edit distance (case-insensitive; '.',
 * '_' and '-' count as the same), or NULL when none is close enough to be a
 * plausible typo. Candidates are `n` names in an array of structs: the name
 * pointer of element i is at (char *)base + i * stride + name_offset. */
const char *sc_textpb_nearest(const char *word, const void *base, size_t n, size_t stride,
                              size_t name_offset);

/* Human name of a field's type: "int32", "string", "enum kpsim.Api",
 * "message kpsim.Cluster". */
const char *sc_textpb_type_name(const ProtobufCFieldDescriptor *fd, char *buf, size_t cap);

#endif
