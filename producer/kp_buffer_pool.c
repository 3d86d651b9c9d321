/*
 * kp_buffer_pool.c — BufferPool 2.1.1 with waiters instead of blocking.
 *
 * Mirrors the Java lock-and-condition protocol step by step:
 *   allocate: the fast paths (free poolable buffer; enough non-pooled +
 *   pooled memory) are taken without looking at the waiters, exactly as
 *   Java does; otherwise the caller's waiter joins the tail WITHOUT
 *   reserving anything (Java's waiter only collects memory after it is
 *   signalled).
 *   serve (a Java signal to the first waiter, after deallocate, after an
 *   allocation that left memory over, after a waiter timed out): the head
 *   collects what it can; complete -> served, and the next head is tried
 *   while memory is left; incomplete -> it keeps what it collected and
 *   everyone keeps waiting.
 * The free list is a stack (Java takes pollFirst for allocation and
 * pollLast in freeUp; which physical buffer is reused does not change any
 * observable number).
 */
#include "kp_buffer_pool.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_events.h"
#include "kp_slab.h"

struct kp_buffer_pool {
    int64_t total_memory;
    size_t poolable_size;
    int64_t non_pooled_available;
    uint8_t **free_list;
    size_t free_count, free_cap;
    kp_pool_waiter *head, *tail;
    int queued;
    int64_t allocated;  /* bytes handed out and not deallocated */
    int64_t reserved;   /* sum of waiters' accumulated */
    uint64_t mallocs, waits;
    const kp_observer *obs;
    const kp_clock *clock;
    kp_slab slab; /* poolable buffers (kp_buffer_pool.h, "Memory"); no base: malloc only */
};

#define KP_POOL_SLAB_MAX ((size_t)1 << 30) /* address space reserved at most */

static void slab_init(kp_buffer_pool *p) {
    if (p->total_memory <= 0 || p->poolable_size == 0)
        return;
    uint64_t total = (uint64_t)p->total_memory;
    (void)kp_slab_init(&p->slab, p->poolable_size,
                       (size_t)((total < KP_POOL_SLAB_MAX ? total : KP_POOL_SLAB_MAX) / p->poolable_size));
}

/* A new buffer of `size` bytes: a poolable one from the slab (a spare one
 * first, so pages already touched are touched again), anything else, or
 * a poolable one past the slab, from malloc. NULL when malloc fails. */
static uint8_t *buf_new(kp_buffer_pool *p, size_t size) {
    if (size == p->poolable_size) {
        uint8_t *b = kp_slab_take(&p->slab);
        if (b)
            return b;
    }
    return malloc(size ? size : 1);
}

/* Lets a buffer go: a slab buffer onto the spare stack, else free(). */
static void buf_free(kp_buffer_pool *p, uint8_t *b) {
    if (kp_slab_holds(&p->slab, b))
        kp_slab_put(&p->slab, b);
    else
        free(b);
}

void kp_pool_waiter_init(kp_pool_waiter *w, kp_pool_waiter_fn *on_done, void *ctx) {
    memset(w, 0, sizeof *w);
    w->on_done = on_done;
    w->ctx = ctx;
    w->state = KP_WAITER_IDLE;
    w->err = KP_ERR_NONE;
}

kp_buffer_pool *kp_buffer_pool_new(int64_t total_memory, size_t poolable_size,
                                   const kp_observer *obs) {
    kp_buffer_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->total_memory = total_memory;
    p->poolable_size = poolable_size;
    p->non_pooled_available = total_memory;
    p->obs = obs;
    slab_init(p);
    return p;
}

void kp_buffer_pool_set_clock(kp_buffer_pool *pool, const kp_clock *clock) {
    pool->clock = clock;
}

void kp_buffer_pool_destroy(kp_buffer_pool *p) {
    if (!p)
        return;
    assert(p->head == NULL && "waiters still queued at destroy");
    for (size_t i = 0; i < p->free_count; i++)
        buf_free(p, p->free_list[i]);
    free(p->free_list);
    kp_slab_destroy(&p->slab);
    free(p);
}

static void emit(const kp_buffer_pool *p, int kind, int64_t now_ms, int64_t bytes, int64_t value,
                 kp_err err) {
    if (!p->obs || !p->obs->on_event)
        return;
    kp_event ev;
    kp_time_us t = now_ms >= 0 ? now_ms * 1000 : (p->clock ? kp_clock_now_us(p->clock) : 0);
    kp_event_init(&ev, kind, t);
    ev.bytes = bytes;
    ev.value = value;
    ev.err = err;
    kp_observer_emit(p->obs, &ev);
}

static void waiter_unlink(kp_buffer_pool *p, kp_pool_waiter *w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        p->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        p->tail = w->prev;
    w->prev = w->next = NULL;
    p->queued--;
}

/* BufferPool.freeUp: move pooled buffers to non-pooled memory until size
 * bytes are non-pooled or the free list is empty. */
static void free_up(kp_buffer_pool *p, int64_t size) {
    while (p->free_count > 0 && p->non_pooled_available < size) {
        buf_free(p, p->free_list[--p->free_count]);
        p->non_pooled_available += (int64_t)p->poolable_size;
    }
}

static bool memory_left(const kp_buffer_pool *p) {
    return !(p->non_pooled_available == 0 && p->free_count == 0);
}

static void format_timeout(char *buf, size_t n, int64_t max_block_ms) {
    snprintf(buf, n, "Failed to allocate memory within the configured max blocking time %" PRId64 " ms.",
             max_block_ms);
}

void kp_pool_waiter_message(const kp_pool_waiter *w, char *buf, size_t n) {
    if (!buf || n == 0)
        return;
    if (w->err == KP_ERR__BUFFER_EXHAUSTED)
        format_timeout(buf, n, w->max_block_ms);
    else if (w->err == KP_ERR_NONE)
        snprintf(buf, n, "%s", "");
    else
        snprintf(buf, n, "Buffer allocation of %zu bytes failed: %s", w->size, kp_err_desc(w->err));
}

/* One Java signal to the first waiter, repeated while waiters complete and
 * memory is left over. */
static void serve_queue(kp_buffer_pool *p) {
    while (p->head) {
        kp_pool_waiter *w = p->head;
        if (!memory_left(p))
            return;
        int64_t size = (int64_t)w->size;
        if (w->accumulated == 0 && w->size == p->poolable_size && p->free_count > 0) {
            w->buffer = p->free_list[--p->free_count];
            w->accumulated = w->size;
            p->reserved += size;
        } else {
            int64_t missing = size - (int64_t)w->accumulated;
            free_up(p, missing);
            int64_t got = missing < p->non_pooled_available ? missing : p->non_pooled_available;
            p->non_pooled_available -= got;
            w->accumulated += (size_t)got;
            p->reserved += got;
        }
        if ((int64_t)w->accumulated < size)
            return; /* the head keeps what it has; FIFO: nobody overtakes */
        if (!w->buffer) {
            w->buffer = buf_new(p, w->size);
            if (!w->buffer) {
                /* safeAllocateByteBuffer: give the memory back, fail the waiter */
                p->reserved -= size;
                p->non_pooled_available += size;
                w->accumulated = 0;
                waiter_unlink(p, w);
                w->state = KP_WAITER_FAILED;
                w->err = KP_ERR__NOMEM;
                if (w->on_done)
                    w->on_done(w->ctx, w);
                continue;
            }
            p->mallocs++;
        }
        p->reserved -= size;
        p->allocated += size;
        w->accumulated = 0;
        waiter_unlink(p, w);
        w->state = KP_WAITER_SERVED;
        w->err = KP_ERR_NONE;
        emit(p, KP_EV_POOL_WAIT_DONE, -1, size, -1, KP_ERR_NONE);
        if (w->on_done)
            w->on_done(w->ctx, w);
    }
}

/* serve_queue when anyone waits: an allocation or a deallocation with
 * nobody queued (the common case) costs no call */
static inline void serve(kp_buffer_pool *p) {
    if (p->head)
        serve_queue(p);
}

uint8_t *kp_buffer_pool_take_pooled(kp_buffer_pool *p, size_t size) {
    if (size != p->poolable_size || p->free_count == 0 || (int64_t)size > p->total_memory)
        return NULL;
    /* kp_buffer_pool_allocate's "free buffer of the right size" case */
    uint8_t *buf = p->free_list[--p->free_count];
    p->allocated += (int64_t)size;
    serve(p);
    return buf;
}

kp_pool_status kp_buffer_pool_allocate(kp_buffer_pool *p, size_t size, int64_t now,
                                       int64_t max_block_ms, kp_pool_waiter *w, uint8_t **out,
                                       kp_err *err, char *errbuf, size_t n) {
    *out = NULL;
    if (err)
        *err = KP_ERR_NONE;
    if ((int64_t)size > p->total_memory) {
        if (err)
            *err = KP_ERR__RECORD_TOO_LARGE;
        if (errbuf && n)
            snprintf(errbuf, n, "Attempt to allocate %zu bytes, but there is a hard limit of %" PRId64 " on memory allocations.",
                     size, p->total_memory);
        return KP_POOL_ERROR;
    }
    assert(!w || w->state != KP_WAITER_QUEUED);

    /* check if we have a free buffer of the right size pooled */
    if (size == p->poolable_size && p->free_count > 0) {
        *out = p->free_list[--p->free_count];
        p->allocated += (int64_t)size;
        serve(p);
        return KP_POOL_OK;
    }
    int64_t free_list_size = (int64_t)p->free_count * (int64_t)p->poolable_size;
    if (p->non_pooled_available + free_list_size >= (int64_t)size) {
        free_up(p, (int64_t)size);
        p->non_pooled_available -= (int64_t)size;
        uint8_t *buf = buf_new(p, size);
        if (!buf) {
            p->non_pooled_available += (int64_t)size;
            if (err)
                *err = KP_ERR__NOMEM;
            if (errbuf && n)
                snprintf(errbuf, n, "malloc(%zu) failed", size);
            serve(p);
            return KP_POOL_ERROR;
        }
        p->mallocs++;
        p->allocated += (int64_t)size;
        *out = buf;
        serve(p);
        return KP_POOL_OK;
    }

    /* we are out of memory and will have to block */
    if (!w || max_block_ms <= 0) {
        if (err)
            *err = KP_ERR__BUFFER_EXHAUSTED;
        format_timeout(errbuf, n, max_block_ms < 0 ? 0 : max_block_ms);
        emit(p, KP_EV_POOL_TIMEOUT, now, (int64_t)size, max_block_ms, KP_ERR__BUFFER_EXHAUSTED);
        return KP_POOL_ERROR;
    }
    w->state = KP_WAITER_QUEUED;
    w->err = KP_ERR_NONE;
    w->size = size;
    w->accumulated = 0;
    w->buffer = NULL;
    w->enqueued_ms = now;
    w->max_block_ms = max_block_ms;
    w->deadline_ms = max_block_ms > INT64_MAX - now ? INT64_MAX : now + max_block_ms;
    w->prev = p->tail;
    w->next = NULL;
    if (p->tail)
        p->tail->next = w;
    else
        p->head = w;
    p->tail = w;
    p->queued++;
    p->waits++;
    emit(p, KP_EV_POOL_WAIT, now, (int64_t)size, kp_buffer_pool_available_memory(p), KP_ERR_NONE);
    return KP_POOL_WOULD_BLOCK;
}

uint8_t *kp_pool_waiter_take_buffer(kp_pool_waiter *w) {
    if (w->state != KP_WAITER_SERVED)
        return NULL;
    uint8_t *b = w->buffer;
    w->buffer = NULL;
    w->state = KP_WAITER_IDLE;
    return b;
}

void kp_buffer_pool_deallocate(kp_buffer_pool *p, uint8_t *buf, size_t size) {
    assert(p->allocated >= (int64_t)size);
    p->allocated -= (int64_t)size;
#ifdef KP_MUTANT_POOL_LEAK /* mutant (tests/mutants): a batch.size buffer is freed, its bytes never available again */
    if (size == p->poolable_size) { buf_free(p, buf); serve(p); return; }
#endif
    if (size == p->poolable_size) {
        if (p->free_count == p->free_cap) {
            size_t nc = p->free_cap ? p->free_cap * 2 : 16;
            uint8_t **nl = realloc(p->free_list, nc * sizeof *nl);
            if (!nl) {
                /* cannot keep it pooled: count it as non-pooled memory */
                buf_free(p, buf);
                p->non_pooled_available += (int64_t)size;
                serve(p);
                return;
            }
            p->free_list = nl;
            p->free_cap = nc;
        }
        p->free_list[p->free_count++] = buf;
    } else {
        buf_free(p, buf);
        p->non_pooled_available += (int64_t)size;
    }
    serve(p);
}

static void fail_waiter(kp_buffer_pool *p, kp_pool_waiter *w, kp_err err, int64_t now) {
    /* "When this loop was not able to successfully terminate don't lose
     * available memory" */
    p->non_pooled_available += (int64_t)w->accumulated;
    p->reserved -= (int64_t)w->accumulated;
    w->accumulated = 0;
    assert(w->buffer == NULL); /* a queued waiter never holds a buffer: serve completes it at once */
    waiter_unlink(p, w);
    w->state = KP_WAITER_FAILED;
    w->err = err;
    if (err == KP_ERR__BUFFER_EXHAUSTED)
        emit(p, KP_EV_POOL_TIMEOUT, now, (int64_t)w->size, w->max_block_ms, err);
    if (w->on_done)
        w->on_done(w->ctx, w);
}

int kp_buffer_pool_expire(kp_buffer_pool *p, int64_t now) {
    int count = 0;
    kp_pool_waiter *w = p->head;
    while (w) {
        kp_pool_waiter *next = w->next;
        if (w->deadline_ms <= now) {
            fail_waiter(p, w, KP_ERR__BUFFER_EXHAUSTED, now);
            count++;
            next = p->head; /* the callback may have changed the queue */
            while (next && next->deadline_ms > now)
                next = next->next;
        }
        w = next;
    }
    if (count)
        serve(p);
    return count;
}

int64_t kp_buffer_pool_next_deadline(const kp_buffer_pool *p) {
    int64_t d = INT64_MAX;
    for (const kp_pool_waiter *w = p->head; w; w = w->next)
        if (w->deadline_ms < d)
            d = w->deadline_ms;
    return d;
}

void kp_buffer_pool_cancel(kp_buffer_pool *p, kp_pool_waiter *w, kp_err err) {
    if (w->state != KP_WAITER_QUEUED)
        return;
    fail_waiter(p, w, err, -1);
    serve(p);
}

int64_t kp_buffer_pool_available_memory(const kp_buffer_pool *p) {
    return p->non_pooled_available + (int64_t)p->free_count * (int64_t)p->poolable_size;
}

int64_t kp_buffer_pool_unallocated_memory(const kp_buffer_pool *p) {
    return p->non_pooled_available;
}

int64_t kp_buffer_pool_total_memory(const kp_buffer_pool *p) {
    return p->total_memory;
}

size_t kp_buffer_pool_poolable_size(const kp_buffer_pool *p) {
    return p->poolable_size;
}

int kp_buffer_pool_queued(const kp_buffer_pool *p) {
    return p->queued;
}

int kp_buffer_pool_free_count(const kp_buffer_pool *p) {
    return (int)p->free_count;
}

int64_t kp_buffer_pool_allocated_bytes(const kp_buffer_pool *p) {
    return p->allocated;
}

int64_t kp_buffer_pool_reserved_bytes(const kp_buffer_pool *p) {
    return p->reserved;
}

bool kp_buffer_pool_verify(const kp_buffer_pool *p, char *why, size_t n) {
    int64_t sum = kp_buffer_pool_available_memory(p) + p->allocated + p->reserved;
    if (sum != p->total_memory) {
        if (why && n)
            snprintf(why, n, "available %" PRId64 " + allocated %" PRId64 " + reserved %" PRId64 " != total %" PRId64,
                     kp_buffer_pool_available_memory(p), p->allocated, p->reserved, p->total_memory);
        return false;
    }
    int q = 0;
    int64_t acc = 0;
    for (const kp_pool_waiter *w = p->head; w; w = w->next) {
        q++;
        acc += (int64_t)w->accumulated;
        if (w->state != KP_WAITER_QUEUED) {
            if (why && n)
                snprintf(why, n, "waiter in queue not QUEUED");
            return false;
        }
    }
    if (q != p->queued || acc != p->reserved) {
        if (why && n)
            snprintf(why, n, "queue count %d/%d or reserved %" PRId64 "/%" PRId64 " mismatch", q,
                     p->queued, acc, p->reserved);
        return false;
    }
    if (p->non_pooled_available < 0) {
        if (why && n)
            snprintf(why, n, "negative non-pooled memory");
        return false;
    }
    return true;
}

bool kp_buffer_pool_is_whole(const kp_buffer_pool *p) {
    return p->allocated == 0 && p->reserved == 0 && p->queued == 0 &&
           kp_buffer_pool_available_memory(p) == p->total_memory;
}

uint64_t kp_buffer_pool_mallocs(const kp_buffer_pool *p) {
    return p->mallocs;
}

uint64_t kp_buffer_pool_waits(const kp_buffer_pool *p) {
    return p->waits;
}

size_t kp_buffer_pool_slab_carved(const kp_buffer_pool *p) {
    return p->slab.base ? p->slab.used : SIZE_MAX;
}
