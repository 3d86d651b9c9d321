/*
 * sn_events.c — names of the net event kinds (see sn_events.h).
 */
#include "sn_events.h"

const char *sn_event_name(int kind) {
    switch (kind) {
    case SN_EV_CONNECT:       return "connect";
    case SN_EV_ACCEPT:        return "accept";
    case SN_EV_CONNECTED:     return "connected";
    case SN_EV_REFUSED:       return "refused";
    case SN_EV_HELD:          return "handshake_held";
    case SN_EV_CLOSE:         return "close";
    case SN_EV_PEER_CLOSED:   return "peer_closed";
    case SN_EV_RESET:         return "reset";
    case SN_EV_SEND:          return "send";
    case SN_EV_DELIVER:       return "deliver";
    case SN_EV_DROP:          return "drop";
    case SN_EV_STALL:         return "stall";
    case SN_EV_WINDOW_FULL:   return "window_full";
    case SN_EV_DISCONNECT:    return "disconnect";
    case SN_EV_PARTITION:     return "partition";
    case SN_EV_HEAL:          return "heal";
    case SN_EV_BLACKHOLE_ON:  return "blackhole_on";
    case SN_EV_BLACKHOLE_OFF: return "blackhole_off";
    case SN_EV_NODE_DOWN:     return "node_down";
    case SN_EV_NODE_UP:       return "node_up";
    case SN_EV_LINK_CFG:      return "link_cfg";
    case SN_EV_CHAOS_START:   return "chaos_start";
    case SN_EV_CHAOS_END:     return "chaos_end";
    case SN_EV_CHAOS_SKIP:    return "chaos_skip";
    default:                  return NULL;
    }
}
