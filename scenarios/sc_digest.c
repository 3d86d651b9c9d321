/*
 * sc_digest.c — the run digest's string hashing and its read-only-memory
 * cache (see sc_digest.h for what the digest covers and why the cache is
 * safe).
 */
#include "sc_digest.h"

#include <link.h>
#include <string.h>

#include "kp_rng.h"
#include "sc_le.h"

/* ---- read-only memory of the executable ---------------------------------- */

/* dl_iterate_phdr reports the executable first (empty dlpi_name); only its
 * segments matter: the literals the layers put in events are compiled into
 * it. A PT_LOAD segment without PF_W is mapped read-only for the life of
 * the process (nothing in kpsim calls mprotect). */
static int sc_digest_phdr_cb(struct dl_phdr_info *info, size_t size, void *ctx) {
    (void)size;
    sc_digest *d = ctx;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) || ph->p_memsz == 0)
            continue;
        uintptr_t lo = (uintptr_t)(info->dlpi_addr + ph->p_vaddr);
        uintptr_t hi = lo + (uintptr_t)ph->p_memsz;
        if (d->nro > 0 && d->ro[d->nro - 1].hi == lo) {
            d->ro[d->nro - 1].hi = hi; /* adjacent: one range */
            continue;
        }
        if (d->nro == SC_DIGEST_RO_MAX)
            break; /* more ranges only cost cache hits, never correctness */
        d->ro[d->nro].lo = lo;
        d->ro[d->nro].hi = hi;
        d->nro++;
    }
    return 1; /* the executable only */
}

void sc_digest_init(sc_digest *d) {
    memset(d, 0, sizeof *d);
    d->value = KP_FNV1A64_INIT;
    dl_iterate_phdr(sc_digest_phdr_cb, d);
    if (d->nro > 0) {
        uintptr_t lo = d->ro[0].lo, hi = d->ro[0].hi;
        for (int i = 1; i < d->nro; i++) {
            if (d->ro[i].lo < lo)
                lo = d->ro[i].lo;
            if (d->ro[i].hi > hi)
                hi = d->ro[i].hi;
        }
        d->ro_lo = lo;
        d->ro_len = hi - lo;
    }
}

/* ---- content hash ------------------------------------------------------------ */

uint64_t sc_digest_string_hash(const char *s) {
    size_t n = strlen(s);
    uint64_t h = sc_digest_word(SC_DIGEST_K2, (uint64_t)n);
    uint64_t tail = 0;
    if (n >= 8) {
        const char *p = s;
        size_t left = n;
        for (; left > 8; left -= 8, p += 8)
            h = sc_digest_word(h, sc_le64(p));
        tail = sc_le64(s + n - 8); /* the last eight bytes (may overlap the last word) */
    } else if (n >= 4) { /* two overlapping 4-byte loads cover every byte */
        tail = (uint64_t)sc_le32(s) | (uint64_t)sc_le32(s + n - 4) << 32;
    } else if (n > 0) { /* first, middle, last: every byte of 1..3 */
        const unsigned char *p = (const unsigned char *)s;
        tail = (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16;
    }
    return sc_digest_fold(sc_digest_word(h, tail));
}

static bool sc_digest__pinned(const sc_digest *d, const char *s) {
    for (int i = 0; i < d->npins; i++)
        if (d->pins[i] == s)
            return true;
    return false;
}

bool sc_digest_pin(sc_digest *d, const char *s) {
    if (!s)
        return false;
    if (!sc_digest__pinned(d, s)) {
        if (d->npins == SC_DIGEST_PINS)
            return false;
        d->pins[d->npins++] = s;
    }
    /* into the cache now (unless it is there): the fast path finds a topic
     * equal to the last one by content before it would look further */
    uint64_t h;
    if (!sc_digest__known(d, s, &h))
        (void)sc_digest__str_slow(d, s);
    return true;
}

void sc_digest_unpin_all(sc_digest *d) {
    for (size_t i = 0; i < SC_DIGEST_CACHE; i++)
        if (d->cache[i].s && !sc_digest_immutable(d, d->cache[i].s))
            d->cache[i].s = NULL;
    d->npins = 0;
}

uint64_t sc_digest__str_slow(sc_digest *d, const char *s) {
    uint64_t h = sc_digest_string_hash(s);
    if (sc_digest_immutable(d, s) || sc_digest__pinned(d, s)) {
        /* the newest goes first, the older of the set moves to the second way */
        size_t i = sc_digest__set(s);
        d->cache[i + 1] = d->cache[i];
        d->cache[i].s = s;
        d->cache[i].h = h;
        d->stored++;
    }
    return h;
}

uint64_t sc_digest__topic_slow(sc_digest *d, const char *s) {
    if (sc_digest_immutable(d, s) || sc_digest__pinned(d, s))
        return sc_digest__str_slow(d, s);
    uint64_t h = sc_digest_string_hash(s);
    size_t n = strlen(s);
    if (n > 0 && n < sizeof d->topic_text) {
        memcpy(d->topic_text, s, n + 1);
        d->topic_len = n;
        d->topic_h = h;
    }
    return h;
}

void sc_digest_event_slow(sc_digest *d, const kp_event *ev, kp_time_us time_us) {
    sc_digest_event(d, ev, time_us);
}
