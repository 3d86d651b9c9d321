/*
 * rp_json_check.c — see rp_json_check.h. Recursive descent with a depth
 * limit; strings must be valid UTF-8 without raw control characters.
 */
#include "rp_json_check.h"

#include <string.h>

typedef struct jc {
    const unsigned char *s;
    size_t n, i;
    int depth;
    int bad;
} jc;

static void jc_ws(jc *j) {
    while (j->i < j->n && strchr(" \t\r\n", j->s[j->i]) && j->s[j->i])
        j->i++;
}

static int jc_fail(jc *j) {
    j->bad = 1;
    return -1;
}

static int jc_value(jc *j);

static int jc_lit(jc *j, const char *w) {
    size_t k = strlen(w);
    if (j->n - j->i < k || memcmp(j->s + j->i, w, k))
        return jc_fail(j);
    j->i += k;
    return 0;
}

static int jc_string(jc *j) {
    if (j->i >= j->n || j->s[j->i] != '"')
        return jc_fail(j);
    j->i++;
    while (j->i < j->n) {
        unsigned c = j->s[j->i];
        if (c == '"') {
            j->i++;
            return 0;
        }
        if (c < 0x20)
            return jc_fail(j);
        if (c == '\\') {
            j->i++;
            if (j->i >= j->n)
                return jc_fail(j);
            c = j->s[j->i];
            if (c == 'u') {
                for (int k = 1; k <= 4; k++)
                    if (j->i + k >= j->n || !strchr("0123456789abcdefABCDEF", j->s[j->i + k]) ||
                        !j->s[j->i + k])
                        return jc_fail(j);
                j->i += 5;
                continue;
            }
            if (!strchr("\"\\/bfnrt", c) || !c)
                return jc_fail(j);
            j->i++;
            continue;
        }
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || j->i + len > j->n)
            return jc_fail(j);
        for (size_t k = 1; k < len; k++)
            if ((j->s[j->i + k] & 0xc0) != 0x80)
                return jc_fail(j);
        j->i += len;
    }
    return jc_fail(j);
}

static int jc_number(jc *j) {
    size_t st = j->i;
    if (j->i < j->n && j->s[j->i] == '-')
        j->i++;
    if (j->i >= j->n)
        return jc_fail(j);
    if (j->s[j->i] == '0') {
        j->i++;
    } else if (j->s[j->i] >= '1' && j->s[j->i] <= '9') {
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
            j->i++;
    } else {
        return jc_fail(j);
    }
    if (j->i < j->n && j->s[j->i] == '.') {
        j->i++;
        size_t d = j->i;
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
            j->i++;
        if (d == j->i)
            return jc_fail(j);
    }
    if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
        j->i++;
        if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
            j->i++;
        size_t d = j->i;
        while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
            j->i++;
        if (d == j->i)
            return jc_fail(j);
    }
    return j->i > st ? 0 : jc_fail(j);
}

static int jc_value(jc *j) {
    if (++j->depth > 200)
        return jc_fail(j);
    jc_ws(j);
    if (j->i >= j->n)
        return jc_fail(j);
    int rc = 0;
    unsigned char c = j->s[j->i];
    if (c == '{') {
        j->i++;
        jc_ws(j);
        if (j->i < j->n && j->s[j->i] == '}') {
            j->i++;
        } else {
            for (;;) {
                jc_ws(j);
                if (jc_string(j))
                    return -1;
                jc_ws(j);
                if (j->i >= j->n || j->s[j->i] != ':')
                    return jc_fail(j);
                j->i++;
                if (jc_value(j))
                    return -1;
                jc_ws(j);
                if (j->i < j->n && j->s[j->i] == ',') {
                    j->i++;
                    continue;
                }
                if (j->i < j->n && j->s[j->i] == '}') {
                    j->i++;
                    break;
                }
                return jc_fail(j);
            }
        }
    } else if (c == '[') {
        j->i++;
        jc_ws(j);
        if (j->i < j->n && j->s[j->i] == ']') {
            j->i++;
        } else {
            for (;;) {
                if (jc_value(j))
                    return -1;
                jc_ws(j);
                if (j->i < j->n && j->s[j->i] == ',') {
                    j->i++;
                    continue;
                }
                if (j->i < j->n && j->s[j->i] == ']') {
                    j->i++;
                    break;
                }
                return jc_fail(j);
            }
        }
    } else if (c == '"') {
        rc = jc_string(j);
    } else if (c == 't') {
        rc = jc_lit(j, "true");
    } else if (c == 'f') {
        rc = jc_lit(j, "false");
    } else if (c == 'n') {
        rc = jc_lit(j, "null");
    } else {
        rc = jc_number(j);
    }
    j->depth--;
    return rc;
}

size_t rp_json_check(const char *s, size_t n) {
    jc j = {(const unsigned char *)s, n, 0, 0, 0};
    if (jc_value(&j) == 0) {
        jc_ws(&j);
        if (j.i == n)
            return 0;
    }
    return j.i + 1;
}
