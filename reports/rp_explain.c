/*
 * rp_explain.c — selection of one record's events and their narration from
 * a phrasebook (rp_explain.h). The phrasebooks (en, zh) are at the bottom.
 */
#include "rp_explain.h"
#include "rp_internal.h"
#include "rp_kinds.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ====================================================================== */
/* selection                                                               */
/* ====================================================================== */

static bool rp_record_level(rp_role r) {
    return r == RP_ROLE_SEND || r == RP_ROLE_APPEND || r == RP_ROLE_CALLBACK;
}

static int64_t rp_req_key2(int32_t node, int32_t corr) {
    return (int64_t)(((uint64_t)(uint32_t)node << 32) | (uint32_t)corr);
}

static int rp_sel(const rp_trace *t, int64_t record, const int64_t *seed_batches, size_t n_seed,
                  rp_explain_sel *out) {
    memset(out, 0, sizeof *out);
    out->record = record;
    size_t n = t->n_events;
    rp__imap chain = {0}, reqs = {0};
    rp_role *roles = malloc((n ? n : 1) * sizeof *roles);
    unsigned char *take = calloc(n ? n : 1, 1);
    int64_t *order = malloc((n + n_seed + 1) * sizeof *order); /* chain in discovery order */
    size_t n_order = 0;
    int rc = roles && take && order ? 0 : -1;
    for (size_t i = 0; i < n && !rc; i++)
        roles[i] = rp_kind_role(t->events[i].kind_name);
    /* 1. the record's own events and its batches */
    for (size_t i = 0; i < n_seed && !rc; i++) {
        size_t dummy;
        if (!rp__imap_get(&chain, seed_batches[i], &dummy)) {
            rc |= rp__imap_put(&chain, seed_batches[i], 1);
            order[n_order++] = seed_batches[i];
        }
    }
    for (size_t i = 0; i < n && !rc && record >= 0; i++) {
        const kp_event *e = &t->events[i].ev;
        if (!rp_record_level(roles[i]) || e->value != record)
            continue;
        take[i] = 1;
        size_t dummy;
        if (e->batch_id >= 0 && !rp__imap_get(&chain, e->batch_id, &dummy)) {
            rc |= rp__imap_put(&chain, e->batch_id, 1);
            order[n_order++] = e->batch_id;
        }
    }
    /* 2. split pieces, to a fixed point (each pass adds >= 1 or stops) */
    for (bool grew = true; grew && !rc;) {
        grew = false;
        for (size_t i = 0; i < n && !rc; i++) {
            const kp_event *e = &t->events[i].ev;
            size_t dummy;
            if (roles[i] == RP_ROLE_SPLIT && e->batch_id >= 0 &&
                rp__imap_get(&chain, e->value, &dummy) && !rp__imap_get(&chain, e->batch_id, &dummy)) {
                rc |= rp__imap_put(&chain, e->batch_id, 1);
                order[n_order++] = e->batch_id;
                grew = true;
            }
        }
    }
    /* 3. requests that carried a batch of the chain */
    for (size_t i = 0; i < n && !rc; i++) {
        const kp_event *e = &t->events[i].ev;
        size_t dummy;
        if (e->batch_id >= 0 && e->correlation_id >= 0 && e->node >= 0 &&
            rp__imap_get(&chain, e->batch_id, &dummy))
            rc |= rp__imap_put(&reqs, rp_req_key2(e->node, e->correlation_id), 1);
    }
    /* 4. the selection */
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (size_t i = 0; i < n && !rc; i++) {
        const kp_event *e = &t->events[i].ev;
        size_t dummy;
        bool mine = take[i];
        if (!mine && e->batch_id >= 0 && rp__imap_get(&chain, e->batch_id, &dummy))
            mine = !(record >= 0 && rp_record_level(roles[i]) && e->value != record);
        if (!mine && e->correlation_id >= 0 && e->node >= 0 &&
            rp__imap_get(&reqs, rp_req_key2(e->node, e->correlation_id), &dummy))
            mine = true;
        take[i] = mine;
        if (mine) {
            first = e->time_us < first ? e->time_us : first;
            last = e->time_us > last ? e->time_us : last;
        }
    }
    for (size_t i = 0; i < n && !rc; i++)
        if ((roles[i] == RP_ROLE_FAULT || roles[i] == RP_ROLE_METADATA_REFRESH) &&
            t->events[i].ev.time_us >= first &&
            t->events[i].ev.time_us <= last)
            take[i] = 1;
    if (!rc) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            k += take[i];
        out->ix = malloc((k ? k : 1) * sizeof *out->ix);
        out->batches = malloc((n_order ? n_order : 1) * sizeof *out->batches);
        if (!out->ix || !out->batches) {
            rc = -1;
        } else {
            for (size_t i = 0; i < n; i++)
                if (take[i])
                    out->ix[out->n++] = i;
            /* the chain in order of first appearance in the trace (a batch
             * the trace never names, e.g. an unknown --batch, comes last) */
            rp__imap done = {0};
            for (size_t i = 0; i < n && !rc; i++) {
                int64_t b = t->events[i].ev.batch_id;
                size_t dummy;
                if (b >= 0 && rp__imap_get(&chain, b, &dummy) && !rp__imap_get(&done, b, &dummy)) {
                    rc |= rp__imap_put(&done, b, 1);
                    out->batches[out->n_batches++] = b;
                }
            }
            for (size_t o = 0; o < n_order && !rc; o++) {
                size_t dummy;
                if (!rp__imap_get(&done, order[o], &dummy))
                    out->batches[out->n_batches++] = order[o];
            }
            rp__imap_free(&done);
        }
    }
    rp__imap_free(&chain);
    rp__imap_free(&reqs);
    free(roles);
    free(take);
    free(order);
    if (rc)
        rp_explain_sel_free(out);
    return rc;
}

int rp_explain_select_record(const rp_trace *t, int64_t record, rp_explain_sel *out) {
    return rp_sel(t, record, NULL, 0, out);
}

int rp_explain_select_batch(const rp_trace *t, int64_t batch_id, rp_explain_sel *out) {
    return rp_sel(t, -1, &batch_id, 1, out);
}

void rp_explain_sel_free(rp_explain_sel *s) {
    if (!s)
        return;
    free(s->ix);
    free(s->batches);
    s->ix = NULL;
    s->batches = NULL;
    s->n = s->n_batches = 0;
}

/* ====================================================================== */
/* templates                                                               */
/* ====================================================================== */

typedef struct rp_tctx {
    const rp_trace *t;
    const rp_event *e;
    int64_t record, batch;
    const char *scenario;
    uint64_t seed;
} rp_tctx;

/* Appends the value of field `name` (n bytes); false when it does not apply. */
static bool rp_field(rp__sbuf *b, const rp_tctx *c, const char *name, size_t n) {
#define IS(s) (n == sizeof(s) - 1 && !memcmp(name, s, n))
    const kp_event *ev = c->e ? &c->e->ev : NULL;
    char tmp[32];
    if (IS("scenario")) {
        rp__sbuf_printf(b, "%s", c->scenario ? c->scenario : "?");
        return true;
    }
    if (IS("seed")) {
        rp__sbuf_printf(b, "%" PRIu64, c->seed);
        return true;
    }
    if (IS("record")) {
        if (c->record < 0)
            return false;
        rp__sbuf_printf(b, "%" PRId64, c->record);
        return true;
    }
    if (!ev) {
        if (IS("batch") && c->batch >= 0) {
            rp__sbuf_printf(b, "%" PRId64, c->batch);
            return true;
        }
        return false;
    }
#define NUM(s, v, fmt)                                \
    if (IS(s)) {                                      \
        if ((v) == -1)                                \
            return false;                             \
        rp__sbuf_printf(b, "%" fmt, v);               \
        return true;                                  \
    }
    if (IS("time")) {
        rp__ms3(tmp, sizeof tmp, ev->time_us);
        rp__sbuf_printf(b, "%s", tmp);
        return true;
    }
    if (IS("kind")) {
        rp__sbuf_printf(b, "%s", rp__kind_label(c->e, tmp, sizeof tmp));
        return true;
    }
    if (IS("component")) {
        rp__sbuf_printf(b, "%s", rp__event_component(&c->t->header, c->e));
        return true;
    }
    if (IS("topic") || IS("detail")) {
        const char *s = IS("topic") ? ev->topic : ev->detail;
        if (!s)
            return false;
        rp__sbuf_printf(b, "%s", s);
        return true;
    }
    if (IS("err")) {
        if (ev->err == KP_ERR_NONE)
            return false;
        rp__sbuf_printf(b, "%s", kp_err_name(ev->err));
        return true;
    }
    if (IS("api")) {
        if (ev->api_key == -1)
            return false;
        const char *a = rp_api_name(ev->api_key);
        if (a)
            rp__sbuf_printf(b, "%s", a);
        else
            rp__sbuf_printf(b, "api %" PRId32, ev->api_key);
        return true;
    }
    NUM("node", ev->node, PRId32)
    NUM("partition", ev->partition, PRId32)
    NUM("batch", ev->batch_id, PRId64)
    NUM("base_seq", ev->base_sequence, PRId32)
    NUM("records", ev->record_count, PRId32)
    NUM("bytes", ev->bytes, PRId64)
    NUM("corr", ev->correlation_id, PRId32)
    NUM("attempt", ev->attempt, PRId32)
    NUM("offset", ev->offset, PRId64)
    NUM("pid", ev->producer_id, PRId64)
    NUM("epoch", ev->producer_epoch, PRId32)
    NUM("value", ev->value, PRId64)
    return false;
#undef NUM
#undef IS
}

/* Renders tpl[0..len) into b; a [part] whose own fields do not all apply
 * is dropped (nested parts decide for themselves); a field outside any
 * part that does not apply is printed as "?". */
static void rp_render(rp__sbuf *b, const rp_tctx *c, const char *tpl, size_t len, int depth) {
    for (size_t i = 0; i < len;) {
        char ch = tpl[i];
        if (ch == '[' && depth < 4) {
            size_t j = i + 1;
            int nest = 1;
            while (j < len && nest) {
                nest += tpl[j] == '[' ? 1 : tpl[j] == ']' ? -1 : 0;
                j++;
            }
            /* render the part alone; keep it only when every field applied */
            rp__sbuf part = {0};
            bool ok = true;
            int inner = 0; /* fields of nested parts decide for themselves */
            for (size_t k = i + 1; k + 1 < j; k++) {
                inner += tpl[k] == '[' ? 1 : tpl[k] == ']' ? -1 : 0;
                if (tpl[k] == '{' && inner == 0) {
                    size_t e = k + 1;
                    while (e < j - 1 && tpl[e] != '}')
                        e++;
                    rp__sbuf probe = {0};
                    ok &= rp_field(&probe, c, tpl + k + 1, e - k - 1);
                    free(probe.p);
                    k = e;
                }
            }
            if (ok)
                rp_render(&part, c, tpl + i + 1, (j - 1) - (i + 1), depth + 1);
            if (ok && part.p)
                rp__sbuf_putn(b, part.p, part.len);
            free(part.p);
            i = j;
        } else if (ch == '{') {
            size_t e = i + 1;
            while (e < len && tpl[e] != '}')
                e++;
            if (!rp_field(b, c, tpl + i + 1, e - i - 1))
                rp__sbuf_putn(b, "?", 1);
            i = e + 1;
        } else {
            rp__sbuf_putn(b, &tpl[i], 1);
            i++;
        }
    }
}

static const rp_phrase *rp_phrase_of(const rp_phrasebook *pb, const char *kind_name) {
    if (!kind_name)
        return NULL;
    const char *dot = strrchr(kind_name, '.');
    const char *name = dot ? dot + 1 : kind_name;
    for (size_t i = 0; i < pb->n; i++)
        if (!strcmp(pb->phrases[i].kind_name, name))
            return &pb->phrases[i];
    if (rp_kind_role(kind_name) == RP_ROLE_FAULT)
        for (size_t i = 0; i < pb->n; i++)
            if (!strcmp(pb->phrases[i].kind_name, "fault"))
                return &pb->phrases[i];
    return NULL;
}

void rp_explain_sentence(FILE *out, const rp_trace *t, const rp_event *e, const rp_phrasebook *pb,
                         int64_t record) {
    const rp_phrase *ph = rp_phrase_of(pb, e->kind_name);
    const char *tpl = ph ? ph->text : pb->fallback;
    rp_tctx c = {t, e, record, -1, t->header.scenario, t->header.seed};
    rp__sbuf b = {0};
    rp_render(&b, &c, tpl, strlen(tpl), 0);
    if (b.p)
        fputs(b.p, out);
    free(b.p);
}

void rp_explain_print(FILE *out, const rp_trace *t, const rp_explain_sel *sel,
                      const rp_phrasebook *pb) {
    rp_tctx c = {t, NULL, sel->record, sel->n_batches ? sel->batches[0] : -1, t->header.scenario,
                 t->header.seed};
    const char *title = sel->record >= 0 ? pb->title_record : pb->title_batch;
    rp__sbuf b = {0};
    rp_render(&b, &c, title, strlen(title), 0);
    fprintf(out, "%s\n\n", b.p ? b.p : "");
    free(b.p);
    if (sel->n == 0) {
        fprintf(out, "%s\n", pb->nothing);
        return;
    }
    int width = 1;
    for (size_t n = sel->n; n >= 10; n /= 10)
        width++;
    for (size_t k = 0; k < sel->n; k++) {
        const rp_event *e = &t->events[sel->ix[k]];
        const rp_phrase *ph = rp_phrase_of(pb, e->kind_name);
        char tm[32];
        rp__ms3(tm, sizeof tm, e->ev.time_us);
        fprintf(out, "%*zu. %10s ms  ", width, k + 1, tm);
        if (ph && ph->java && *ph->java)
            fprintf(out, "%s — ", ph->java);
        rp_explain_sentence(out, t, e, pb, sel->record);
        putc('\n', out);
    }
}

/* ====================================================================== */
/* phrasebooks                                                             */
/* ====================================================================== */

static const rp_phrase rp_en[] = {
    {"send", "KafkaProducer.send", "The application calls send() for record {value}[ to {topic}[-{partition}]][ ({bytes} bytes)]."},
    {"append", "RecordAccumulator.append", "Record {value} is appended to batch {batch}[: {detail}][; records in the batch: {records}][, {bytes} bytes]."},
    {"batch_created", "RecordAccumulator.append", "No open batch can take it: a new ProducerBatch {batch} is created for [{topic}-{partition}]."},
    {"wakeup", "Sender.wakeup", "The sender thread is woken up."},
    {"ready", "RecordAccumulator.ready", "The sender finds node {node} ready to receive data[: {detail}]."},
    {"batch_drained", "RecordAccumulator.drain", "The sender drains batch {batch} for node {node}[ ({records} records, {bytes} bytes)][, attempt {attempt}]."},
    {"request_sent", "Sender.sendProduceRequest", "A {api} request with correlation id {corr} goes to node {node}[ carrying {records} records][ ({bytes} bytes)]."},
    {"produce_received", "KafkaApis.handleProduceRequest", "Broker {node} receives the {api} request (correlation id {corr})."},
    {"log_append", "Log.append", "Broker {node} appends {records} records to [{topic}-{partition}] at offset {offset}."},
    {"response_received", "Sender.handleProduceResponse", "Node {node} answers correlation id {corr}[ with error {err}]."},
    {"request_timed_out", "NetworkClient.handleTimedOutRequests", "No answer to correlation id {corr} from node {node}: the request timed out[ ({detail})]."},
    {"batch_completed", "Sender.completeBatch", "Batch {batch} is done: written at base offset {offset}[ ({records} records)]."},
    {"batch_failed", "Sender.failBatch", "Batch {batch} fails[ with {err}][: {detail}]."},
    {"callback", "ProducerBatch.done", "The callback of record {value} runs[: offset {offset}][, error {err}]."},
    {"retry", "Sender.reenqueueBatch", "Batch {batch} goes back to the accumulator for another try[ (attempt {attempt})][ after {err}][; backoff {value} ms]."},
    {"split", "RecordAccumulator.splitAndReenqueue", "Batch {value} was too big[ ({err})]: piece {batch}[ with {records} records] is re-enqueued."},
    {"metadata_update_requested", "Metadata.requestUpdate", "The producer asks for fresh metadata[: {detail}]."},
    {"batch_expired", "RecordAccumulator.expiredBatches", "Batch {batch} expired before it could be sent[ ({detail})]."},
    {"buffer_allocated", "BufferPool.allocate", "The buffer pool hands out {bytes} bytes for batch {batch}[ ({value} bytes in use)]."},
    {"buffer_deallocated", "BufferPool.deallocate", "Batch {batch} returns its {bytes} bytes to the buffer pool[ ({value} bytes in use)]."},
    {"leader_move", "", "The cluster moves leadership[: {detail}]."},
    {"fault", "", "Fault injected[ at {component}][: {detail}]."},
};

static const rp_phrase rp_zh[] = {
    {"send", "KafkaProducer.send", "应用调用 send() 发送记录 {value}[，目标 {topic}[-{partition}]][（{bytes} 字节）]。"},
    {"append", "RecordAccumulator.append", "记录 {value} 追加到批次 {batch}[：{detail}][；批次现有 {records} 条记录][，{bytes} 字节]。"},
    {"batch_created", "RecordAccumulator.append", "没有可用的批次：为 [{topic}-{partition} ]新建 ProducerBatch {batch}。"},
    {"wakeup", "Sender.wakeup", "唤醒 Sender 线程。"},
    {"ready", "RecordAccumulator.ready", "Sender 发现节点 {node} 已就绪[：{detail}]。"},
    {"batch_drained", "RecordAccumulator.drain", "Sender 为节点 {node} 取出批次 {batch}[（{records} 条记录，{bytes} 字节）][，第 {attempt} 次尝试]。"},
    {"request_sent", "Sender.sendProduceRequest", "向节点 {node} 发送 {api} 请求，关联 ID {corr}[，携带 {records} 条记录][（{bytes} 字节）]。"},
    {"produce_received", "KafkaApis.handleProduceRequest", "Broker {node} 收到 {api} 请求（关联 ID {corr}）。"},
    {"log_append", "Log.append", "Broker {node} 把 {records} 条记录写入[ {topic}-{partition}]，偏移量 {offset}。"},
    {"response_received", "Sender.handleProduceResponse", "节点 {node} 回复关联 ID {corr}[，错误 {err}]。"},
    {"request_timed_out", "NetworkClient.handleTimedOutRequests", "节点 {node} 没有回复关联 ID {corr}：请求超时[（{detail}）]。"},
    {"batch_completed", "Sender.completeBatch", "批次 {batch} 完成：写入基准偏移量 {offset}[（{records} 条记录）]。"},
    {"batch_failed", "Sender.failBatch", "批次 {batch} 失败[，错误 {err}][：{detail}]。"},
    {"callback", "ProducerBatch.done", "记录 {value} 的回调执行[：偏移量 {offset}][，错误 {err}]。"},
    {"retry", "Sender.reenqueueBatch", "批次 {batch} 重新放回累加器等待重试[（第 {attempt} 次）][，原因 {err}][；退避 {value} 毫秒]。"},
    {"split", "RecordAccumulator.splitAndReenqueue", "批次 {value} 过大[（{err}）]：拆出的批次 {batch}[（{records} 条记录）]重新入队。"},
    {"metadata_update_requested", "Metadata.requestUpdate", "生产者请求更新元数据[：{detail}]。"},
    {"batch_expired", "RecordAccumulator.expiredBatches", "批次 {batch} 在发送前过期[（{detail}）]。"},
    {"buffer_allocated", "BufferPool.allocate", "缓冲池为批次 {batch} 分配 {bytes} 字节[（已用 {value} 字节）]。"},
    {"buffer_deallocated", "BufferPool.deallocate", "批次 {batch} 把 {bytes} 字节还给缓冲池[（已用 {value} 字节）]。"},
    {"leader_move", "", "集群迁移分区 leader[：{detail}]。"},
    {"fault", "", "注入故障[，位置 {component}][：{detail}]。"},
};

static const rp_phrasebook rp_books[] = {
    {"en", rp_en, sizeof rp_en / sizeof rp_en[0], "{kind} at {component}[: {detail}].",
     "The life of record {record} in {scenario} (seed {seed})",
     "The life of batch {batch} in {scenario} (seed {seed})",
     "The trace holds no event about it."},
    {"zh", rp_zh, sizeof rp_zh / sizeof rp_zh[0], "{component} 上的 {kind}[：{detail}]。",
     "记录 {record} 的一生：{scenario}（种子 {seed}）",
     "批次 {batch} 的一生：{scenario}（种子 {seed}）",
     "追踪中没有与之相关的事件。"},
};

const rp_phrasebook *rp_phrasebook_get(const char *lang) {
    for (size_t i = 0; lang && i < sizeof rp_books / sizeof rp_books[0]; i++)
        if (!strcmp(rp_books[i].lang, lang))
            return &rp_books[i];
    return NULL;
}
