/*
 * gen_producer_response_corpus.c — writes the seed corpus of
 * fuzz_producer_response (tests/fuzz/corpus/producer_response/): real
 * ProduceResponse v7 bodies encoded with protocol/kp_msg_produce.c, for
 * the answers a broker gives (success, each error a 2.1 producer handles
 * differently, partitions and topics not asked about, throttling), each
 * under a few flag bytes (idempotence, acks=1, 1..8 records, chunked
 * reads, close after the answer, the application closing right after
 * the answer was read), plus whole frames for raw mode (right
 * and wrong correlation ids, a 2 GiB and a negative size prefix).
 *
 *   gen_producer_response_corpus OUT_DIR
 *
 * The input layout is fuzz_producer_response.c's: flags, chunk selector,
 * answer bytes. Run by tests/fuzz/gen_producer_response_corpus.sh.
 * Deterministic: the same files every time (named by content).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kp_err.h"
#include "kp_msg_produce.h"
#include "kp_proto.h"

static const char *gen_dir;
static int gen_count;

static uint64_t gen_hash(const uint8_t *p, size_t n) { /* FNV-1a, for file names */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void gen_write(uint8_t flags, uint8_t chunk, const uint8_t *answer, size_t len) {
    uint8_t *buf = malloc(len + 2);
    if (!buf)
        abort();
    buf[0] = flags;
    buf[1] = chunk;
    memcpy(buf + 2, answer, len);
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%016llx", gen_dir, (unsigned long long)gen_hash(buf, len + 2));
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len + 2, f) != len + 2) {
        perror(path);
        exit(1);
    }
    fclose(f);
    free(buf);
    gen_count++;
}

/* A body of ProduceResponse v7 with nparts partitions of topic. */
static uint8_t *gen_body(const char *topic, const int32_t *parts, int nparts, int16_t err, int64_t base,
                         int32_t throttle, size_t *len) {
    kp_produce_partition_response pr[4];
    for (int i = 0; i < nparts; i++)
        pr[i] = (kp_produce_partition_response){ parts[i], err, err ? -1 : base + i * 10, -1, err ? -1 : 0 };
    kp_produce_topic_response tr = { kp_slice_str(topic), nparts, pr };
    kp_produce_response r = { 1, &tr, throttle };
    kp_writer w;
    kp_wr_init(&w, NULL, 0);
    kp_produce_response_encode(&w, 7, &r);
    *len = w.len;
    uint8_t *buf = malloc(w.len ? w.len : 1);
    kp_wr_init(&w, buf, *len);
    kp_produce_response_encode(&w, 7, &r);
    return buf;
}

/* flags variants for one body: plain, idempotent, acks=1 with 3 records,
 * 8 records chunked, close after */
static void gen_variants(const uint8_t *body, size_t len) {
    static const uint8_t flags[] = { 0x00, 0x01, 0x0a, 0x1c | 0x40, 0x04 | 0x80, 0x1d };
    for (size_t i = 0; i < sizeof flags; i++)
        gen_write(flags[i], 3, body, len);
    gen_write(0x04, 8, body, len); /* close right after the answer: 2 records */
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gen_producer_response_corpus OUT_DIR\n");
        return 2;
    }
    gen_dir = argv[1];
    static const int32_t p0[] = { 0 }, p01[] = { 0, 1 }, p1[] = { 1 }, p7[] = { 7 }, p00[] = { 0, 0 };
    static const int16_t errs[] = { KP_ERR_NONE,
                                    KP_ERR_CORRUPT_MESSAGE,
                                    KP_ERR_UNKNOWN_TOPIC_OR_PARTITION,
                                    KP_ERR_NOT_LEADER_FOR_PARTITION,
                                    KP_ERR_REQUEST_TIMED_OUT,
                                    KP_ERR_MESSAGE_TOO_LARGE,
                                    KP_ERR_NOT_ENOUGH_REPLICAS,
                                    KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
                                    KP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                    KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                    KP_ERR_DUPLICATE_SEQUENCE_NUMBER,
                                    KP_ERR_INVALID_PRODUCER_EPOCH,
                                    KP_ERR_UNKNOWN_PRODUCER_ID,
                                    KP_ERR_KAFKA_STORAGE_ERROR,
                                    KP_ERR_RECORD_LIST_TOO_LARGE,
                                    999 /* not a Kafka error */ };
    size_t len;
    uint8_t *b;
    for (size_t e = 0; e < sizeof errs / sizeof errs[0]; e++) {
        b = gen_body("t", p0, 1, errs[e], 0, 0, &len);
        gen_variants(b, len);
        free(b);
        b = gen_body("t", p01, 2, errs[e], 5, 0, &len);
        gen_variants(b, len);
        free(b);
    }
    /* answers about what was not asked, or asked twice */
    const struct { const char *topic; const int32_t *parts; int n; } odd[] = {
        { "t", p1, 1 }, { "t", p7, 1 }, { "x", p0, 1 }, { "t", p00, 2 }, { "", p0, 1 },
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        b = gen_body(odd[i].topic, odd[i].parts, odd[i].n, 0, 0, 0, &len);
        gen_variants(b, len);
        free(b);
    }
    /* throttled, a huge base offset, an empty answer */
    b = gen_body("t", p01, 2, 0, 0, 250, &len);
    gen_variants(b, len);
    free(b);
    b = gen_body("t", p0, 1, 0, INT64_MAX - 5, 0, &len);
    gen_variants(b, len);
    free(b);
    kp_produce_response empty = { 0, NULL, 0 };
    kp_writer w;
    uint8_t eb[16];
    kp_wr_init(&w, eb, sizeof eb);
    kp_produce_response_encode(&w, 7, &empty);
    gen_variants(eb, w.len);
    /* raw mode: whole frames. The first Produce request's correlation id
     * depends on the producer's request order; 2 and 3 are the likely ones,
     * the others are wrong on purpose. */
    b = gen_body("t", p0, 1, 0, 0, 0, &len);
    for (int32_t corr = 0; corr < 6; corr++) {
        uint8_t *f = malloc(len + 8);
        kp_be32_put(f, (uint32_t)(len + 4));
        kp_be32_put(f + 4, (uint32_t)corr);
        memcpy(f + 8, b, len);
        gen_write(0x20, 0, f, len + 8);
        gen_write(0x21 | 0x40, 1, f, len + 8);
        kp_be32_put(f, 0x7fffffffu); /* 2 GiB announced */
        gen_write(0x20, 0, f, len + 8);
        kp_be32_put(f, 0xffffffffu); /* negative */
        gen_write(0x20, 0, f, len + 8);
        kp_be32_put(f, (uint32_t)(len + 4 + 100)); /* longer than what comes */
        gen_write(0x20 | 0x80, 0, f, len + 8);
        free(f);
    }
    free(b);
    printf("%d seeds\n", gen_count);
    return 0;
}
