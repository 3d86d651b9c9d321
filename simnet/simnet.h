/*
 * simnet.h — the simulated world in one include: clock, event queue and PRNG
 * streams (sn_world.h), nodes, links, connections and faults (sn_net.h),
 * chaos (sn_chaos.h), trace event kinds (sn_events.h). The real-world
 * counterpart of the same seams is live.h.
 */
#ifndef SIMNET_H
#define SIMNET_H

#include "sn_chaos.h"
#include "sn_events.h"
#include "sn_net.h"
#include "sn_world.h"

#endif
