/*
 * cmd_partition.c — `kpsim partition --partitions N KEY...`: which partition
 * the 2.1 DefaultPartitioner picks for each key (murmur2 of the key's bytes
 * as given — UTF-8 from the shell — toPositive, mod N).
 */
#include "kp_cli.h"
#include "kp_murmur2.h"

#include <stdio.h>
#include <string.h>

static int kp_partition_run(int argc, char **argv);

const kp_cmd kp_cmd_partition = {
    .name = "partition",
    .synopsis = "partition --partitions N KEY...",
    .summary = "Print the partition the Kafka 2.1 DefaultPartitioner picks for each key.",
    .help =
        "For each KEY prints one line KEY<TAB>PARTITION: toPositive(murmur2(KEY)) % N,\n"
        "where murmur2 is Kafka's Utils.murmur2 over the key's bytes (UTF-8 as the\n"
        "shell passes them) and toPositive(x) = x & 0x7fffffff.\n\n"
        "options:\n"
        "  --partitions N   number of partitions of the topic (N >= 1)\n\n"
        "example:\n"
        "  kpsim partition --partitions 3 0 1 2\n"
        "  0\t2\n  1\t0\n  2\t2\n",
    .run = kp_partition_run,
};

static int kp_partition_run(int argc, char **argv) {
    int64_t n = -1;
    int first_key = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--partitions") || !strncmp(argv[i], "--partitions=", 13)) {
            const char *v = argv[i][12] == '=' ? argv[i] + 13 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v)
                return kp_cli_usage(&kp_cmd_partition, "--partitions needs a value");
            if (!kp_cli_parse_i64(v, 1, INT32_MAX, &n))
                return kp_cli_usage(&kp_cmd_partition,
                                    "--partitions must be a whole number from 1 to 2147483647, got '%s'", v);
        } else if (!strcmp(argv[i], "--")) {
            first_key = i + 1;
            break;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return kp_cli_usage(&kp_cmd_partition, "unknown option '%s'", argv[i]);
        } else {
            first_key = i;
            /* options may not follow keys: everything from here is a key,
             * except a trailing --partitions */
            for (int j = i; j < argc; j++) {
                if (!strcmp(argv[j], "--partitions") && j + 1 < argc && n < 0) {
                    if (!kp_cli_parse_i64(argv[j + 1], 1, INT32_MAX, &n))
                        return kp_cli_usage(&kp_cmd_partition,
                                            "--partitions must be a whole number from 1 to 2147483647, got '%s'",
                                            argv[j + 1]);
                    argc = j; /* keys end before it */
                    break;
                }
            }
            break;
        }
    }
    if (n < 0)
        return kp_cli_usage(&kp_cmd_partition, "--partitions N is required");
    if (first_key < 0 || first_key >= argc)
        return kp_cli_usage(&kp_cmd_partition, "give at least one KEY");
    for (int i = first_key; i < argc; i++)
        printf("%s\t%d\n", argv[i], (int)kp_partition_for_key(argv[i], strlen(argv[i]), (int32_t)n));
    return 0;
}
