/*
 * kp_metrics.c — sensors of the Sender with Kafka's sampled statistics
 * (see kp_metrics.h for names and semantics).
 */
#include "kp_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KP_M_WINDOW_MS 30000
#define KP_M_SAMPLES 2

/* One sampled statistic: the samples feed avg, max and rate; total is the
 * cumulative sum (Meter's CumulativeSum). */
typedef struct kp_stat {
    struct {
        int64_t start_ms;
        double sum;
        double count;
        double max;
        bool used;
    } s[KP_M_SAMPLES];
    int cur;
    double total;
    bool any;
} kp_stat;

static void kp_stat_purge(kp_stat *st, int64_t now) {
    for (int i = 0; i < KP_M_SAMPLES; i++)
        if (st->s[i].used && now - st->s[i].start_ms >= (int64_t)KP_M_SAMPLES * KP_M_WINDOW_MS)
            st->s[i].used = false;
}

__attribute__((noinline)) static void kp_stat_record_slow(kp_stat *st, double v, int64_t now) {
    kp_stat_purge(st, now);
    if (!st->any || !st->s[st->cur].used || now - st->s[st->cur].start_ms >= KP_M_WINDOW_MS) {
        if (st->any && st->s[st->cur].used)
            st->cur = (st->cur + 1) % KP_M_SAMPLES;
        st->s[st->cur].start_ms = now;
        st->s[st->cur].sum = 0;
        st->s[st->cur].count = 0;
        st->s[st->cur].max = -INFINITY;
        st->s[st->cur].used = true;
    }
    st->any = true;
    st->s[st->cur].sum += v;
    st->s[st->cur].count += 1;
    if (v > st->s[st->cur].max)
        st->s[st->cur].max = v;
    st->total += v;
}

/* The record into a current sample in use whose window has not passed. */
static inline void kp_stat_add(kp_stat *st, double v) {
    st->s[st->cur].sum += v;
    st->s[st->cur].count += 1;
    if (v > st->s[st->cur].max)
        st->s[st->cur].max = v;
    st->total += v;
}

static inline void kp_stat_record(kp_stat *st, double v, int64_t now) {
    /* The common case: the current sample is in use and its window has
     * not passed. Then the purge could only drop the other sample, which
     * nothing reads before purging again itself (avg, max and rate purge
     * first; the rotation overwrites it), and the clock never goes back:
     * skipping it here changes no value reported. */
    int64_t age = now - st->s[st->cur].start_ms;
    if (st->s[st->cur].used && age < KP_M_WINDOW_MS && age >= 0) {
        kp_stat_add(st, v);
        return;
    }
    kp_stat_record_slow(st, v, now);
}

/* When the current sample ends (it is in use: just recorded into) */
static inline int64_t kp_stat_window_end(const kp_stat *st) {
    return st->s[st->cur].start_ms + KP_M_WINDOW_MS;
}

static double kp_stat_avg(kp_stat *st, int64_t now) {
    kp_stat_purge(st, now);
    double sum = 0, n = 0;
    for (int i = 0; i < KP_M_SAMPLES; i++)
        if (st->s[i].used) {
            sum += st->s[i].sum;
            n += st->s[i].count;
        }
    return n > 0 ? sum / n : NAN;
}

static double kp_stat_max(kp_stat *st, int64_t now) {
    kp_stat_purge(st, now);
    double m = -INFINITY;
    for (int i = 0; i < KP_M_SAMPLES; i++)
        if (st->s[i].used && st->s[i].max > m)
            m = st->s[i].max;
    return m == -INFINITY ? NAN : m;
}

/* Rate.measure: sum / windowSize, windowSize = now - oldest sample start,
 * at least (samples - 1) full windows, in seconds. */
static double kp_stat_rate(kp_stat *st, int64_t now) {
    kp_stat_purge(st, now);
    double sum = 0;
    int64_t oldest = now;
    bool any = false;
    for (int i = 0; i < KP_M_SAMPLES; i++)
        if (st->s[i].used) {
            sum += st->s[i].sum;
            if (st->s[i].start_ms < oldest)
                oldest = st->s[i].start_ms;
            any = true;
        }
    if (!any)
        return 0;
    int64_t elapsed = now - oldest;
    int64_t min_win = (int64_t)(KP_M_SAMPLES - 1) * KP_M_WINDOW_MS;
    if (elapsed < min_win)
        elapsed = min_win;
    return sum / ((double)elapsed / 1000.0);
}

typedef struct kp_topic_stats {
    char *topic;
    kp_stat records, bytes, compression, retries, errors;
} kp_topic_stats;

struct kp_metrics {
    kp_stat batch_size, compression, queue_time, latency, records_per_request, retries, errors,
        record_size, split, throttle;
    kp_metrics_gauges gauges;
    kp_topic_stats *topics;
    int ntopics, cap;
    /* The seven statistics of a batch (topics[bw_ix]'s records, bytes and
     * compression; batch_size, queue_time, compression, record_size) all
     * have a current sample in use that started at or before bw_since and
     * whose window lasts until bw_until or later: a batch of that topic
     * recorded at now in [bw_since, bw_until) takes every statistic's
     * common case, with no window test. Set by a batch's full record; a
     * read (which may purge) clears it (bw_ix -1); nothing else changes
     * these statistics' current samples before their window ends. */
    int bw_ix;
    int64_t bw_since, bw_until;
};

kp_metrics *kp_metrics_new(void) {
    kp_metrics *m = calloc(1, sizeof(kp_metrics));
    if (m)
        m->bw_ix = -1;
    return m;
}

void kp_metrics_destroy(kp_metrics *m) {
    if (!m)
        return;
    for (int i = 0; i < m->ntopics; i++)
        free(m->topics[i].topic);
    free(m->topics);
    free(m);
}

void kp_metrics_set_gauges(kp_metrics *m, const kp_metrics_gauges *g) {
    m->gauges = *g;
}

static kp_topic_stats *kp_m_topic(kp_metrics *m, const char *topic, bool create) {
    for (int i = 0; i < m->ntopics; i++)
        if (strcmp(m->topics[i].topic, topic) == 0)
            return &m->topics[i];
    if (!create)
        return NULL;
    if (m->ntopics == m->cap) {
        int ncap = m->cap ? m->cap * 2 : 8;
        kp_topic_stats *p = realloc(m->topics, (size_t)ncap * sizeof *p);
        if (!p)
            return NULL;
        m->topics = p;
        m->cap = ncap;
    }
    kp_topic_stats *t = &m->topics[m->ntopics];
    memset(t, 0, sizeof *t);
    t->topic = strdup(topic);
    if (!t->topic)
        return NULL;
    m->ntopics++;
    return t;
}

void kp_metrics_record_batch(kp_metrics *m, const char *topic, int32_t records, int64_t bytes,
                             double ratio, int64_t queue_time_ms, int32_t max_record_size, int64_t now) {
    kp_metrics_record_batch_h(m, topic, NULL, records, bytes, ratio, queue_time_ms, max_record_size, now);
}

/* The topic table only ever appends: one generation (1) for its life. */
void kp_metrics_record_batch_h(kp_metrics *m, const char *topic, kp_hint *hint, int32_t records, int64_t bytes,
                               double ratio, int64_t queue_time_ms, int32_t max_record_size, int64_t now) {
    kp_topic_stats *t;
    if (kp_hint_hit(hint, 1, (size_t)m->ntopics)) {
        t = &m->topics[hint->ix];
    } else {
        t = kp_m_topic(m, topic, true); /* maybeRegisterTopicMetrics */
        if (t)
            kp_hint_set(hint, 1, (size_t)(t - m->topics));
    }
    if (t && t - m->topics == m->bw_ix && now >= m->bw_since && now < m->bw_until) {
        /* every window test below would pass (see bw_ix) */
        kp_stat_add(&t->records, records);
        kp_stat_add(&t->bytes, (double)bytes);
        kp_stat_add(&t->compression, ratio);
        kp_stat_add(&m->batch_size, (double)bytes);
        kp_stat_add(&m->queue_time, (double)queue_time_ms);
        kp_stat_add(&m->compression, ratio);
        kp_stat_add(&m->record_size, max_record_size);
        return;
    }
    if (t) {
        kp_stat_record(&t->records, records, now);
        kp_stat_record(&t->bytes, (double)bytes, now);
        kp_stat_record(&t->compression, ratio, now);
    }
    kp_stat_record(&m->batch_size, (double)bytes, now);
    kp_stat_record(&m->queue_time, (double)queue_time_ms, now);
    kp_stat_record(&m->compression, ratio, now);
    kp_stat_record(&m->record_size, max_record_size, now);
    m->bw_ix = -1;
    if (t) {
        const kp_stat *all[7] = { &t->records, &t->bytes, &t->compression, &m->batch_size,
                                  &m->queue_time, &m->compression, &m->record_size };
        int64_t until = INT64_MAX;
        for (int i = 0; i < 7; i++)
            if (kp_stat_window_end(all[i]) < until)
                until = kp_stat_window_end(all[i]);
        m->bw_ix = (int)(t - m->topics);
        m->bw_since = now;
        m->bw_until = until;
    }
}

void kp_metrics_record_request(kp_metrics *m, int32_t records, int64_t now) {
    kp_stat_record(&m->records_per_request, records, now);
}

void kp_metrics_record_retries(kp_metrics *m, const char *topic, int32_t count, int64_t now) {
    kp_stat_record(&m->retries, count, now);
    kp_topic_stats *t = kp_m_topic(m, topic, false);
    if (t)
        kp_stat_record(&t->retries, count, now);
}

void kp_metrics_record_errors(kp_metrics *m, const char *topic, int32_t count, int64_t now) {
    kp_stat_record(&m->errors, count, now);
    kp_topic_stats *t = kp_m_topic(m, topic, false);
    if (t)
        kp_stat_record(&t->errors, count, now);
}

void kp_metrics_record_latency(kp_metrics *m, int64_t latency, int64_t now) {
    kp_stat_record(&m->latency, (double)latency, now);
}

void kp_metrics_record_split(kp_metrics *m, int64_t now) {
    kp_stat_record(&m->split, 1, now);
}

void kp_metrics_record_throttle(kp_metrics *m, int64_t throttle_ms, int64_t now) {
    kp_stat_record(&m->throttle, (double)throttle_ms, now);
}

static const char *const kp_m_names[] = {
    "batch-size-avg", "batch-size-max", "batch-split-rate", "batch-split-total",
    "compression-rate-avg", "metadata-age", "produce-throttle-time-avg", "produce-throttle-time-max",
    "record-error-rate", "record-error-total", "record-queue-time-avg", "record-queue-time-max",
    "record-retry-rate", "record-retry-total", "record-send-rate", "record-send-total",
    "record-size-avg", "record-size-max", "records-per-request-avg", "request-latency-avg",
    "request-latency-max", "requests-in-flight",
};
#define KP_M_NNAMES ((int)(sizeof kp_m_names / sizeof kp_m_names[0]))

static const char *const kp_m_topic_names[] = {
    "byte-rate", "byte-total", "compression-rate", "record-error-rate", "record-error-total",
    "record-retry-rate", "record-retry-total", "record-send-rate", "record-send-total",
};
#define KP_M_NTOPIC ((int)(sizeof kp_m_topic_names / sizeof kp_m_topic_names[0]))

int kp_metrics_name_count(void) { return KP_M_NNAMES; }
const char *kp_metrics_name_at(int i) { return i >= 0 && i < KP_M_NNAMES ? kp_m_names[i] : NULL; }

static bool kp_m_get_topic(kp_topic_stats *t, const char *name, int64_t now, double *out) {
    if (!strcmp(name, "byte-rate")) *out = kp_stat_rate(&t->bytes, now);
    else if (!strcmp(name, "byte-total")) *out = t->bytes.total;
    else if (!strcmp(name, "compression-rate")) *out = kp_stat_avg(&t->compression, now);
    else if (!strcmp(name, "record-error-rate")) *out = kp_stat_rate(&t->errors, now);
    else if (!strcmp(name, "record-error-total")) *out = t->errors.total;
    else if (!strcmp(name, "record-retry-rate")) *out = kp_stat_rate(&t->retries, now);
    else if (!strcmp(name, "record-retry-total")) *out = t->retries.total;
    else if (!strcmp(name, "record-send-rate")) *out = kp_stat_rate(&t->records, now);
    else if (!strcmp(name, "record-send-total")) *out = t->records.total;
    else return false;
    return true;
}

bool kp_metrics_get(kp_metrics *m, const char *name, const char *topic, int64_t now, double *out) {
    m->bw_ix = -1; /* reads purge */
    if (topic) {
        kp_topic_stats *t = kp_m_topic(m, topic, false);
        return t && kp_m_get_topic(t, name, now, out);
    }
    if (!strcmp(name, "batch-size-avg")) *out = kp_stat_avg(&m->batch_size, now);
    else if (!strcmp(name, "batch-size-max")) *out = kp_stat_max(&m->batch_size, now);
    else if (!strcmp(name, "batch-split-rate")) *out = kp_stat_rate(&m->split, now);
    else if (!strcmp(name, "batch-split-total")) *out = m->split.total;
    else if (!strcmp(name, "compression-rate-avg")) *out = kp_stat_avg(&m->compression, now);
    else if (!strcmp(name, "metadata-age"))
        *out = m->gauges.last_metadata_update_ms
                   ? (double)(now - m->gauges.last_metadata_update_ms(m->gauges.ctx)) / 1000.0
                   : NAN;
    else if (!strcmp(name, "produce-throttle-time-avg")) *out = kp_stat_avg(&m->throttle, now);
    else if (!strcmp(name, "produce-throttle-time-max")) *out = kp_stat_max(&m->throttle, now);
    else if (!strcmp(name, "record-error-rate")) *out = kp_stat_rate(&m->errors, now);
    else if (!strcmp(name, "record-error-total")) *out = m->errors.total;
    else if (!strcmp(name, "record-queue-time-avg")) *out = kp_stat_avg(&m->queue_time, now);
    else if (!strcmp(name, "record-queue-time-max")) *out = kp_stat_max(&m->queue_time, now);
    else if (!strcmp(name, "record-retry-rate")) *out = kp_stat_rate(&m->retries, now);
    else if (!strcmp(name, "record-retry-total")) *out = m->retries.total;
    else if (!strcmp(name, "record-send-rate")) *out = kp_stat_rate(&m->records_per_request, now);
    else if (!strcmp(name, "record-send-total")) *out = m->records_per_request.total;
    else if (!strcmp(name, "record-size-avg")) *out = kp_stat_avg(&m->record_size, now);
    else if (!strcmp(name, "record-size-max")) *out = kp_stat_max(&m->record_size, now);
    else if (!strcmp(name, "records-per-request-avg")) *out = kp_stat_avg(&m->records_per_request, now);
    else if (!strcmp(name, "request-latency-avg")) *out = kp_stat_avg(&m->latency, now);
    else if (!strcmp(name, "request-latency-max")) *out = kp_stat_max(&m->latency, now);
    else if (!strcmp(name, "requests-in-flight"))
        *out = m->gauges.in_flight ? (double)m->gauges.in_flight(m->gauges.ctx) : 0;
    else return false;
    return true;
}

void kp_metrics_dump(kp_metrics *m, FILE *out, int64_t now) {
    double v;
    m->bw_ix = -1; /* reads purge */
    for (int i = 0; i < KP_M_NNAMES; i++)
        if (kp_metrics_get(m, kp_m_names[i], NULL, now, &v))
            fprintf(out, "producer-metrics %s %.6g\n", kp_m_names[i], v);
    for (int t = 0; t < m->ntopics; t++)
        for (int i = 0; i < KP_M_NTOPIC; i++)
            if (kp_m_get_topic(&m->topics[t], kp_m_topic_names[i], now, &v))
                fprintf(out, "producer-topic-metrics %s{topic=%s} %.6g\n", kp_m_topic_names[i],
                        m->topics[t].topic, v);
}
