/*
 * live.h — the same seams as the simulation, for the real world: a clock
 * over CLOCK_MONOTONIC, a kp_transport over non-blocking TCP sockets, a
 * listener, and one poll() loop that dispatches readiness callbacks and
 * sn_timer timers. `kpsim produce` runs the producer on it against a real
 * Kafka-protocol broker; `kpsim broker` serves broker_mock to real clients.
 *
 * live.c is the ONE file of simnet that touches the real clock and sockets
 * (`make tidy` exempts simnet/live*.c and nothing else).
 *
 * Timers: sn_live_world(l) is an sn_world whose clock is CLOCK_MONOTONIC.
 * Use the ordinary sn_timer API on it — sn_timer_schedule(sn_live_world(l),
 * &t, kp_clock_now_us(&clk) + delay) — and the loop runs each timer once its
 * time has come, in (time, schedule order) as in the simulation. Do not call
 * sn_world_run / run_until on it; sn_live_run drives it. sn_now() of that
 * world is the loop's time, read once per loop iteration (libuv's uv_now);
 * sn_live_clock() reads the clock afresh on every call.
 *
 * Connection semantics are those of kp_env.h and sn_net.h, with these
 * differences of the real world: READABLE is level-triggered (it repeats
 * each iteration while unread bytes wait — read until recv returns 0 or -1,
 * as with the simulation); a peer's orderly close shows as CLOSED with
 * KP_ERR__CLOSED once recv reached the end of the stream; a reset or a
 * refused connect is CLOSED with KP_ERR__TRANSPORT. Events are always
 * dispatched from the loop, never from inside a transport call. Name lookup
 * (getaddrinfo) is synchronous: use addresses or names the resolver answers
 * at once (localhost, /etc/hosts); connect and listen use the first address
 * it returns, as the 2.1 client's ClientUtils does, so give both sides the
 * same spelling (or numeric addresses).
 *
 * Memory: sn_live_new allocates the loop; sn_live_destroy closes every socket
 * still open and frees everything, including handles the user did not close.
 * A connection struct is freed by the loop after its user closed it.
 */
#ifndef SN_LIVE_H
#define SN_LIVE_H

#include <stdbool.h>

#include "kp_env.h"
#include "sn_net.h"
#include "sn_world.h"

typedef struct sn_live sn_live;
typedef struct sn_live_listener sn_live_listener;

/* A loop; `obs` receives connection events (sn_events.h kinds, node -1). */
sn_live *sn_live_new(kp_observer obs);
void sn_live_destroy(sn_live *l); /* NULL is fine */

kp_clock sn_live_clock(sn_live *l);
/* Microseconds of CLOCK_MONOTONIC. */
kp_time_us sn_live_now(void);
sn_world *sn_live_world(sn_live *l);
kp_transport sn_live_transport(sn_live *l);

/* Listens on host:port (host NULL = all addresses, port 0 = any free port).
 * NULL when the address cannot be bound. Accepted connections go to
 * on_accept from the loop, CONNECTED; set their callback there. */
sn_live_listener *sn_live_listen(sn_live *l, const char *host, int port,
                                 sn_accept_cb *on_accept, void *ctx);
int sn_live_listener_port(const sn_live_listener *ls);
void sn_live_unlisten(sn_live *l, sn_live_listener *ls);

void sn_live_conn_set_cb(kp_conn *c, kp_conn_cb *cb, void *cb_ctx);
/* Closes with an RST (SO_LINGER 0) and releases the handle. */
void sn_live_conn_abort(kp_conn *c);

/* Makes the loop's current or next wait return at once. Safe to call from a
 * signal handler (it writes one byte to a pipe). */
void sn_live_wakeup(sn_live *l);
/* Makes sn_live_run return false at its next check (signal-safe too); a
 * stop requested while no run is going on ends the next run at once. */
void sn_live_stop(sn_live *l);

/* One iteration: runs due timers and posted events, waits for readiness at
 * most until the earliest timer or `until` (absolute sn_live_now() time;
 * < 0: no bound besides the timers), dispatches what is ready. */
void sn_live_run_once(sn_live *l, kp_time_us until);
/* Iterates until done(ctx) (checked before every iteration; may be NULL),
 * sn_live_stop, or `until` (< 0: none). Returns true iff done(ctx). */
bool sn_live_run(sn_live *l, bool (*done)(void *ctx), void *ctx, kp_time_us until);

#endif
