/*
 * kp_slab.c — the reservation half of kp_slab.h (see there).
 */
#include "kp_slab.h"

#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define KP_SLAB_ON 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KP_SLAB_ON 0
#endif
#endif
#ifndef KP_SLAB_ON
#define KP_SLAB_ON 1
#endif

#define KP_SLAB_HUGE ((size_t)2 << 20) /* a transparent huge page */

bool kp_slab_init(kp_slab *s, size_t size, size_t cap) {
    memset(s, 0, sizeof *s);
#if KP_SLAB_ON
    if (size < sizeof(void *) || cap == 0 || cap > (SIZE_MAX - KP_SLAB_HUGE) / size)
        return false;
    size_t len = cap * size + KP_SLAB_HUGE;
    void *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED)
        return false;
    uintptr_t a = ((uintptr_t)map + KP_SLAB_HUGE - 1) & ~(uintptr_t)(KP_SLAB_HUGE - 1);
#ifdef MADV_HUGEPAGE
    (void)madvise((void *)a, cap * size, MADV_HUGEPAGE); /* a hint: refused, 4 KB pages serve */
#endif
    s->base = (uint8_t *)a;
    s->size = size;
    s->cap = cap;
    s->map = map;
    s->map_len = len;
    return true;
#else
    (void)size;
    (void)cap;
    return false;
#endif
}

void kp_slab_destroy(kp_slab *s) {
    if (s->map)
        munmap(s->map, s->map_len);
    memset(s, 0, sizeof *s);
}
