/*
 * sn_events.h — the network's trace events, kinds 300..399 (kp_env.h).
 *
 * Every link, connection and fault event leaves simnet through the world's
 * kp_observer as a kp_event with one of these kinds. Field use, for all
 * kinds unless said otherwise (unused fields keep kp_event_init's -1/NULL):
 *   node     the node the event concerns (the endpoint's node; for pair
 *            faults the first node `a`)
 *   value    connection events: the connection id (sn_conn_id);
 *            pair faults: the id of node `b`, or -1 for "all";
 *            chaos: the fault number within that chaos run
 *   bytes    byte counts (SEND, DELIVER, DROP, STALL)
 *   err      CLOSED/REFUSED/RESET: KP_ERR__TRANSPORT, PEER_CLOSED: KP_ERR__CLOSED
 *   detail   "<from node>><to node>" names, or ">host:port" for connects;
 *            fault events add " chaos" when chaos injected them
 *
 * live.c emits the connection kinds as well, with node -1.
 */
#ifndef SN_EVENTS_H
#define SN_EVENTS_H

#include "kp_env.h"

enum sn_event_kind {
    /* connections (value = connection id) */
    SN_EV_CONNECT      = KP_EV_BASE_NET + 0,  /* client started a connect */
    SN_EV_ACCEPT       = KP_EV_BASE_NET + 1,  /* server accepted (node = server) */
    SN_EV_CONNECTED    = KP_EV_BASE_NET + 2,  /* client saw the SYN-ACK */
    SN_EV_REFUSED      = KP_EV_BASE_NET + 3,  /* client saw the RST of a refusal */
    SN_EV_HELD         = KP_EV_BASE_NET + 4,  /* a handshake message met a partition/blackhole */
    SN_EV_CLOSE        = KP_EV_BASE_NET + 5,  /* the endpoint's user closed it */
    SN_EV_PEER_CLOSED  = KP_EV_BASE_NET + 6,  /* FIN arrived */
    SN_EV_RESET        = KP_EV_BASE_NET + 7,  /* endpoint reset by a fault or abort */
    /* bytes */
    SN_EV_SEND         = KP_EV_BASE_NET + 10, /* bytes accepted by send */
    SN_EV_DELIVER      = KP_EV_BASE_NET + 11, /* a chunk arrived (node = receiver) */
    SN_EV_DROP         = KP_EV_BASE_NET + 12, /* a chunk vanished in a blackhole */
    SN_EV_STALL        = KP_EV_BASE_NET + 13, /* a chunk is held by a partition */
    SN_EV_WINDOW_FULL  = KP_EV_BASE_NET + 14, /* a chunk is held: receiver buffer full */
    /* faults (node = a, value = b's id or -1) */
    SN_EV_DISCONNECT   = KP_EV_BASE_NET + 20,
    SN_EV_PARTITION    = KP_EV_BASE_NET + 21, /* detail says one-way or both */
    SN_EV_HEAL         = KP_EV_BASE_NET + 22,
    SN_EV_BLACKHOLE_ON = KP_EV_BASE_NET + 23,
    SN_EV_BLACKHOLE_OFF= KP_EV_BASE_NET + 24,
    SN_EV_NODE_DOWN    = KP_EV_BASE_NET + 25, /* node = the node, value -1 */
    SN_EV_NODE_UP      = KP_EV_BASE_NET + 26,
    SN_EV_LINK_CFG     = KP_EV_BASE_NET + 27, /* bytes = bandwidth_bps, offset = latency_us */
    /* chaos */
    SN_EV_CHAOS_START  = KP_EV_BASE_NET + 40, /* value = chaos run number, offset = until */
    SN_EV_CHAOS_END    = KP_EV_BASE_NET + 41, /* a chaos fault's duration ended */
    SN_EV_CHAOS_SKIP   = KP_EV_BASE_NET + 42  /* a draw found no room or no target */
};

/* "connect", "partition", ...; NULL for a kind that is not a net kind. */
const char *sn_event_name(int kind);

#endif
