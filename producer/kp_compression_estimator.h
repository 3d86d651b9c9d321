/*
 * kp_compression_estimator.h — CompressionRatioEstimator (2.1.1).
 *
 * What it is for: a compressed batch is written uncompressed first and
 * compressed at close, so while it fills, its size on the wire is only an
 * estimate: header + uncompressed * ratio * 1.05 (MemoryRecordsBuilder's
 * COMPRESSION_RATE_ESTIMATION_FACTOR). The ratio is learnt per topic and
 * codec from closed batches:
 *   observed > estimate -> estimate = max(estimate + 0.05, observed)
 *                          (COMPRESSION_RATIO_DETERIORATE_STEP: fast up)
 *   observed < estimate -> estimate = estimate - 0.005
 *                          (COMPRESSION_RATIO_IMPROVING_STEP: slow down)
 * starting at 1.0 for every codec (CompressionType.rate in 2.1.1). A wrong
 * (too low) estimate is what makes batches larger than max.message.bytes
 * and leads to MESSAGE_TOO_LARGE and splitting; splitAndReenqueue resets
 * the estimate to max(1.0, the big batch's ratio).
 *
 * Java keeps one static map per JVM; kpsim keeps one estimator per producer
 * (two producers in one simulation must not share learning by accident).
 * Arithmetic is in float, as Java's, so the numbers match.
 *
 * Memory: owns copies of the topic names; topics kept in insertion order
 * (no hash iteration).
 *
 * Lookups are by topic name; the _h calls take a kp_hint (kp_hint.h),
 * the caller's cache of where the topic's entry sits (index + the table's
 * generation, which only remove changes), and skip the name lookup on a
 * hit. A hint belongs to one estimator.
 */
#ifndef KP_COMPRESSION_ESTIMATOR_H
#define KP_COMPRESSION_ESTIMATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kp_compress.h" /* kp_codec */
#include "kp_err.h"
#include "kp_hint.h"

#define KP_COMPRESSION_RATIO_IMPROVING_STEP 0.005f
#define KP_COMPRESSION_RATIO_DETERIORATE_STEP 0.05f
#define KP_COMPRESSION_RATE_ESTIMATION_FACTOR 1.05f

typedef struct kp_compression_estimator kp_compression_estimator;


kp_compression_estimator *kp_compression_estimator_new(void);
void kp_compression_estimator_destroy(kp_compression_estimator *e); /* NULL ok */

/* CompressionRatioEstimator.estimation (creates the topic's entry). On
 * allocation failure returns 1.0 (the initial ratio). */
float kp_compression_estimator_get(kp_compression_estimator *e, const char *topic,
                                   kp_codec codec);
float kp_compression_estimator_get_h(kp_compression_estimator *e, const char *topic,
                                     kp_codec codec, kp_hint *hint);
/* updateEstimation: returns the new estimate. */
float kp_compression_estimator_update(kp_compression_estimator *e, const char *topic,
                                      kp_codec codec, float observed);
float kp_compression_estimator_update_h(kp_compression_estimator *e, const char *topic,
                                        kp_codec codec, float observed, kp_hint *hint);
/* setEstimation. */
void kp_compression_estimator_set(kp_compression_estimator *e, const char *topic,
                                  kp_codec codec, float ratio);
/* resetEstimation: every codec of the topic back to 1.0. */
void kp_compression_estimator_reset(kp_compression_estimator *e, const char *topic);
/* removeEstimation. */
void kp_compression_estimator_remove(kp_compression_estimator *e, const char *topic);

#endif
