/*
 * kp_buffer_pool.h — BufferPool (kafka-clients 2.1.1), non-blocking.
 *
 * What it is for: buffer.memory bounds the bytes the producer holds in
 * batches. Buffers of exactly batch.size ("poolable") are kept on a free
 * list when released and handed out again; other sizes are one-off
 * allocations counted against the same total. Java blocks the appending
 * thread when memory is short; here the caller gets KP_POOL_WOULD_BLOCK
 * and its waiter is queued, FIFO, and is told through its callback when it
 * has been served (buffer in hand) or when its deadline passed.
 *
 * Accounting, as Java's BufferPool:
 *   available = non_pooled_available + free_list_count * poolable_size
 *   total     = available + bytes handed out + bytes reserved by waiters
 * so after everything is released, available == total ("the pool is whole":
 * kp_buffer_pool_is_whole). A waiter that has reserved part of what it needs
 * (Java's `accumulated`) keeps it until served or failed; on failure it is
 * returned.
 *
 * Waiting (BufferPool.allocate's await loop, re-cast):
 *   - allocate(size) when memory is short enqueues the caller's EMBEDDED
 *     waiter at the tail with deadline = now + max_block_ms, and reserves
 *     what is free right now toward it if it is the head.
 *   - deallocate() (and expire) serve waiters from the head: the head takes
 *     a free buffer when it wants exactly poolable_size and has nothing
 *     reserved yet, else reserves min(missing, non-pooled available after
 *     freeing up pooled buffers). Once it has all it needs, its buffer is
 *     created, it leaves the queue, and its on_done callback runs with
 *     KP_ERR_NONE; then the next waiter is tried (Java signals the next
 *     waiter when memory is left over). A head that cannot be completed
 *     stops the loop: later waiters never overtake it (FIFO).
 *   - kp_buffer_pool_expire(now) fails every waiter whose deadline <= now
 *     with KP_ERR__BUFFER_EXHAUSTED ("Failed to allocate memory within the
 *     configured max blocking time N ms."), returning what it had reserved.
 *   Callbacks run from inside deallocate/expire/cancel of the pool; they
 *   must not call back into the pool for the same waiter (they may schedule
 *   work; the facade re-runs the append from its event loop).
 *
 * Memory: the pool creates every buffer (a poolable buffer is reused from
 * the free list, so a warmed-up producer creates none per batch). Buffers
 * of exactly poolable_size come from one slab (protocol/kp_slab.h):
 * address space for total_memory / poolable_size of them (at most 1 GiB)
 * reserved at kp_buffer_pool_new, in transparent huge pages, carved in
 * order; a
 * poolable buffer the pool lets go of (freeUp, the pooling refused) goes
 * onto a spare stack inside the pool and is the next one carved, so the
 * pages touched stay the pages touched before. The accounting bounds the
 * live ones by total_memory / poolable_size, so the slab never runs out
 * (if it did, malloc serves). Measured: the page faults of first touch
 * were a quarter of a fault-injection run's time (4 KB pages, one fault
 * each, ~11 MB of batches); with huge pages they are a few dozen. Other
 * sizes, a pool whose slab could not be mapped, and sanitizer builds (so
 * that an overrun of a batch's buffer is caught at its own end) use
 * malloc. Which addresses buffers have changes no observable number.
 * A buffer handed out is owned by the caller until kp_buffer_pool_deallocate.
 * The pool frees its free list in kp_buffer_pool_destroy; outstanding
 * buffers and queued waiters at destroy are a caller bug (asserted).
 * Waiters are embedded in the caller's structures, never allocated here.
 */
#ifndef KP_BUFFER_POOL_H
#define KP_BUFFER_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_env.h"
#include "kp_err.h"

typedef struct kp_buffer_pool kp_buffer_pool;
typedef struct kp_pool_waiter kp_pool_waiter;

typedef enum kp_pool_status {
    KP_POOL_OK          = 0, /* *out holds a buffer of `size` bytes */
    KP_POOL_WOULD_BLOCK = 1, /* the waiter is queued; on_done will say */
    KP_POOL_ERROR       = 2  /* see the kp_err out-parameter / errbuf */
} kp_pool_status;

typedef enum kp_pool_waiter_state {
    KP_WAITER_IDLE   = 0, /* not in any queue (initial, or after taken) */
    KP_WAITER_QUEUED = 1, /* waiting for memory */
    KP_WAITER_SERVED = 2, /* buffer ready in w->buffer (caller takes it) */
    KP_WAITER_FAILED = 3  /* deadline passed or cancelled: w->err */
} kp_pool_waiter_state;

/* Called when a queued waiter leaves the queue (served or failed). */
typedef void kp_pool_waiter_fn(void *ctx, kp_pool_waiter *w);

/* Embedded in the caller's structure; initialise with kp_pool_waiter_init.
 * Fields below the line are the pool's. */
struct kp_pool_waiter {
    kp_pool_waiter_fn *on_done;
    void *ctx;
    /* ---- owned by the pool while QUEUED ---- */
    kp_pool_waiter_state state;
    kp_err err;            /* KP_ERR_NONE when served */
    size_t size;           /* bytes asked for */
    size_t accumulated;    /* bytes reserved so far (Java's `accumulated`) */
    int64_t enqueued_ms;
    int64_t deadline_ms;   /* enqueued_ms + max_block_ms */
    int64_t max_block_ms;
    uint8_t *buffer;       /* SERVED: the buffer, `size` bytes */
    kp_pool_waiter *prev, *next;
};

void kp_pool_waiter_init(kp_pool_waiter *w, kp_pool_waiter_fn *on_done, void *ctx);

/* total_memory = buffer.memory, poolable_size = batch.size. obs may be
 * NULL (borrowed). */
kp_buffer_pool *kp_buffer_pool_new(int64_t total_memory, size_t poolable_size,
                                   const kp_observer *obs);
void kp_buffer_pool_destroy(kp_buffer_pool *pool); /* NULL ok */
/* Optional: the clock used to time-stamp events emitted from calls that
 * take no `now` (deallocate, cancel). Borrowed. */
void kp_buffer_pool_set_clock(kp_buffer_pool *pool, const kp_clock *clock);

/* BufferPool.allocate. size > total memory -> KP_POOL_ERROR with
 * KP_ERR__RECORD_TOO_LARGE and errbuf "Attempt to allocate N bytes, but
 * there is a hard limit of M on memory allocations." (Java throws
 * IllegalArgumentException). When memory is short: with a waiter and
 * max_block_ms > 0 the waiter is queued (KP_POOL_WOULD_BLOCK); with no
 * waiter or max_block_ms <= 0 the call fails at once with
 * KP_ERR__BUFFER_EXHAUSTED and the timeout message (Java awaits 0 ns and
 * times out). A waiter passed in must be IDLE. When it is served later, take
 * the buffer with kp_pool_waiter_take_buffer. */
kp_pool_status kp_buffer_pool_allocate(kp_buffer_pool *pool, size_t size,
                                       int64_t now, int64_t max_block_ms,
                                       kp_pool_waiter *w, uint8_t **out,
                                       kp_err *err, char *errbuf, size_t n);

/* kp_buffer_pool_allocate's first case alone, for the accumulator's new
 * batch: a pooled buffer when size is the poolable size and one is free
 * (exactly what allocate would return and account, waiters served the
 * same), else NULL with nothing changed (then call allocate). Two
 * arguments instead of nine: the common new batch's allocation. */
uint8_t *kp_buffer_pool_take_pooled(kp_buffer_pool *pool, size_t size);

/* A SERVED waiter's buffer; the waiter becomes IDLE. NULL if not served. */
uint8_t *kp_pool_waiter_take_buffer(kp_pool_waiter *w);

/* BufferPool.deallocate(buffer, size): size is the size it was allocated
 * with. Serves waiters (their callbacks run before this returns). */
void kp_buffer_pool_deallocate(kp_buffer_pool *pool, uint8_t *buf, size_t size);

/* Fails waiters whose deadline <= now (callbacks run). Returns how many. */
int kp_buffer_pool_expire(kp_buffer_pool *pool, int64_t now);
/* Earliest waiter deadline, INT64_MAX when nobody waits. */
int64_t kp_buffer_pool_next_deadline(const kp_buffer_pool *pool);

/* Removes a QUEUED waiter (e.g. the producer closes) with err (callback
 * runs), returning what it had reserved. No-op for a non-queued waiter. */
void kp_buffer_pool_cancel(kp_buffer_pool *pool, kp_pool_waiter *w, kp_err err);

/* The message for a failed waiter, as Java's TimeoutException / close. */
void kp_pool_waiter_message(const kp_pool_waiter *w, char *buf, size_t n);

int64_t kp_buffer_pool_available_memory(const kp_buffer_pool *pool);   /* availableMemory() */
int64_t kp_buffer_pool_unallocated_memory(const kp_buffer_pool *pool); /* unallocatedMemory() */
int64_t kp_buffer_pool_total_memory(const kp_buffer_pool *pool);
size_t kp_buffer_pool_poolable_size(const kp_buffer_pool *pool);
int kp_buffer_pool_queued(const kp_buffer_pool *pool);      /* queued(): waiters */
int kp_buffer_pool_free_count(const kp_buffer_pool *pool);  /* freeSize() */
/* Bytes handed out and not yet deallocated, and bytes reserved by waiters. */
int64_t kp_buffer_pool_allocated_bytes(const kp_buffer_pool *pool);
int64_t kp_buffer_pool_reserved_bytes(const kp_buffer_pool *pool);
/* available + allocated + reserved == total, no buffer outstanding, no
 * waiter queued. */
bool kp_buffer_pool_is_whole(const kp_buffer_pool *pool);
/* Checks the accounting identity; false (and a reason) if broken. */
bool kp_buffer_pool_verify(const kp_buffer_pool *pool, char *why, size_t n);
/* Counters: mallocs done (buffers created), waits started. */
uint64_t kp_buffer_pool_mallocs(const kp_buffer_pool *pool);
uint64_t kp_buffer_pool_waits(const kp_buffer_pool *pool);
/* Poolable buffers carved from the slab so far (the most ever alive at
 * once, as spares are carved again first); SIZE_MAX when the pool has no
 * slab (sanitizer build, poolable size under 8 bytes, mmap refused). */
size_t kp_buffer_pool_slab_carved(const kp_buffer_pool *pool);

#endif
