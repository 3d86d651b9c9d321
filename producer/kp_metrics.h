/*
 * kp_metrics.h — the Sender's sensors (Sender.SenderMetrics,
 * SenderMetricsRegistry, kafka-clients 2.1) with the Java metric names.
 *
 * Group "producer-metrics":
 *   record-send-rate/-total      records sent (per request, Meter)
 *   records-per-request-avg
 *   batch-size-avg/-max          estimated batch bytes
 *   compression-rate-avg
 *   record-queue-time-avg/-max   ms from batch creation to drain
 *   request-latency-avg/-max     ms from request to response
 *   record-retry-rate/-total
 *   record-error-rate/-total
 *   record-size-avg/-max         largest record of each batch
 *   batch-split-rate/-total
 *   produce-throttle-time-avg/-max
 *   requests-in-flight           gauge (NetworkClient.inFlightRequestCount)
 *   metadata-age                 gauge, seconds since the last successful update
 * Group "producer-topic-metrics", tag topic:
 *   record-send-rate/-total, byte-rate/-total, compression-rate,
 *   record-retry-rate/-total, record-error-rate/-total
 *
 * Statistics follow Kafka's SampledStat with metrics.sample.window.ms =
 * 30000 and metrics.num.samples = 2: avg and max over the samples not yet
 * expired, rate = sum over them / elapsed window (at least
 * (num_samples-1) windows, Rate.windowSize), total = cumulative sum
 * (Meter). A stat with no samples reads NaN for avg/max (Java: NaN / -inf
 * print as NaN) and 0 for rates and totals.
 *
 * Memory: the registry owns its per-topic entries (topic names copied);
 * values are computed on read. Topics are kept in first-seen order.
 */
#ifndef KP_METRICS_H
#define KP_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kp_hint.h"

typedef struct kp_metrics kp_metrics;

/* Gauges are read through this callback (the sender supplies it). */
typedef struct kp_metrics_gauges {
    int (*in_flight)(void *ctx);
    int64_t (*last_metadata_update_ms)(void *ctx);
    void *ctx;
} kp_metrics_gauges;

kp_metrics *kp_metrics_new(void);
void kp_metrics_destroy(kp_metrics *m); /* NULL ok */
void kp_metrics_set_gauges(kp_metrics *m, const kp_metrics_gauges *g);

/* SenderMetrics.updateProduceRequestMetrics, per drained batch. */
void kp_metrics_record_batch(kp_metrics *m, const char *topic, int32_t records, int64_t bytes,
                             double compression_ratio, int64_t queue_time_ms,
                             int32_t max_record_size, int64_t now_ms);
/* The same with a hint (kp_hint.h) for topic's entry, kept by a caller
 * that names the same topic again and again (NULL: none). */
void kp_metrics_record_batch_h(kp_metrics *m, const char *topic, kp_hint *topic_hint, int32_t records,
                               int64_t bytes, double compression_ratio, int64_t queue_time_ms,
                               int32_t max_record_size, int64_t now_ms);
/* ... and once per node request with the records it carries. */
void kp_metrics_record_request(kp_metrics *m, int32_t records, int64_t now_ms);
void kp_metrics_record_retries(kp_metrics *m, const char *topic, int32_t count, int64_t now_ms);
void kp_metrics_record_errors(kp_metrics *m, const char *topic, int32_t count, int64_t now_ms);
void kp_metrics_record_latency(kp_metrics *m, int64_t latency_ms, int64_t now_ms);
void kp_metrics_record_split(kp_metrics *m, int64_t now_ms);
void kp_metrics_record_throttle(kp_metrics *m, int64_t throttle_ms, int64_t now_ms);

/* Reads a metric by its Java name; topic NULL for producer-metrics, else
 * the producer-topic-metrics of that topic. false if no such metric. */
bool kp_metrics_get(kp_metrics *m, const char *name, const char *topic, int64_t now_ms, double *out);

/* Every metric, "group name[{topic=T}] value" per line, fixed order. */
void kp_metrics_dump(kp_metrics *m, FILE *out, int64_t now_ms);

/* Names of the producer-metrics, in dump order (for help texts/tests). */
int kp_metrics_name_count(void);
const char *kp_metrics_name_at(int i);

#endif
