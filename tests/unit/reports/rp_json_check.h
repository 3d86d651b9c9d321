/*
 * rp_json_check.h — a strict little JSON validator (RFC 8259 grammar, UTF-8
 * checked) for the reports tests, so they need no JSON library.
 */
#ifndef RP_JSON_CHECK_H
#define RP_JSON_CHECK_H

#include <stddef.h>

/* 0 when s[0..n) is exactly one JSON value (surrounding blanks allowed);
 * else the byte offset + 1 of the first error. */
size_t rp_json_check(const char *s, size_t n);

#endif
