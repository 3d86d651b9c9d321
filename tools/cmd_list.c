/*
 * cmd_list.c — `kpsim list [--root DIR]`: the scenario catalog, one line
 * per scenario: its path from the repository root, a tab, its purpose.
 * Sorted by family, then name (then path), as scenario.proto promises.
 *
 * Finding the repository root (the directory holding scenarios/catalog/):
 *   1. --root DIR when given;
 *   2. else the directory of the running executable (/proc/self/exe) and
 *      its parents — build/kpsim finds the checkout it was built in, from
 *      any current directory;
 *   3. else the current directory and its parents.
 * Every catalog file is loaded and validated; a broken one is reported as
 * FILE:LINE:COLUMN on stderr (the good ones are still listed) and the exit
 * status is 2.
 */
#include "kp_cli.h"
#include "sc_scenario.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int kp_list_run(int argc, char **argv);

const kp_cmd kp_cmd_list = {
    .name = "list",
    .synopsis = "list [--root DIR]",
    .summary = "List the scenario catalog: each file's path from the repo root, a tab, its purpose.",
    .help =
        "Reads scenarios/catalog/*.textpb, validates each file, and prints one line\n"
        "per scenario, sorted by family then name:\n"
        "  scenarios/catalog/NAME.textpb<TAB>PURPOSE\n"
        "The repository root is found from the kpsim executable's own path (its\n"
        "directory and the parents), else from the current directory upwards.\n"
        "A broken catalog file is reported as FILE:LINE:COLUMN and the exit\n"
        "status is 2.\n\n"
        "options:\n"
        "  --root DIR   use DIR as the repository root\n\n"
        "example:\n"
        "  kpsim list | grep faults\n",
    .run = kp_list_run,
};

#define KP_CATALOG_DIR "scenarios/catalog"

static bool kp_has_catalog(const char *dir) {
    char p[PATH_MAX];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/" KP_CATALOG_DIR, dir) >= (int)sizeof p)
        return false;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Walks from `start` up to "/" looking for the catalog; *out = the root. */
static bool kp_find_up(const char *start, char *out, size_t cap) {
    char d[PATH_MAX];
    if (snprintf(d, sizeof d, "%s", start) >= (int)sizeof d)
        return false;
    for (;;) {
        if (kp_has_catalog(d)) {
            return snprintf(out, cap, "%s", d) < (int)cap;
        }
        char *slash = strrchr(d, '/');
        if (!slash)
            return false;
        if (slash == d) {
            if (!d[1])
                return false;
            d[1] = 0; /* try "/" itself once */
        } else {
            *slash = 0;
        }
    }
}

static bool kp_find_root(char *out, size_t cap) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash && slash != exe) {
            *slash = 0;
            if (kp_find_up(exe, out, cap))
                return true;
        }
    }
    char cwd[PATH_MAX];
    return getcwd(cwd, sizeof cwd) && kp_find_up(cwd, out, cap);
}

typedef struct kp_entry {
    char *family, *name, *path, *purpose;
} kp_entry;

static int kp_entry_cmp(const void *a, const void *b) {
    const kp_entry *x = a, *y = b;
    int c = strcmp(x->family, y->family);
    if (!c)
        c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->path, y->path);
}

static int kp_name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int kp_list_run(int argc, char **argv) {
    char root[PATH_MAX] = "";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--root") && i + 1 < argc) {
            if (snprintf(root, sizeof root, "%s", argv[++i]) >= (int)sizeof root)
                return kp_cli_usage(&kp_cmd_list, "--root: path too long");
            if (!kp_has_catalog(root))
                return kp_cli_usage(&kp_cmd_list, "--root %s: no %s/ there", root, KP_CATALOG_DIR);
        } else {
            return kp_cli_usage(&kp_cmd_list, "unknown argument '%s'", argv[i]);
        }
    }
    if (!root[0] && !kp_find_root(root, sizeof root)) {
        fprintf(stderr, "kpsim list: cannot find the repository root (a directory with %s/) from the "
                        "executable's path or the current directory; use --root DIR\n", KP_CATALOG_DIR);
        return KP_EXIT_USAGE;
    }
    /* Paths are shown from the root; files are opened relative to the
     * current directory when it is the root, else through the root. */
    char cwd[PATH_MAX];
    bool at_root = getcwd(cwd, sizeof cwd) && !strcmp(cwd, root);
    char dirpath[PATH_MAX];
    if (snprintf(dirpath, sizeof dirpath, "%s/" KP_CATALOG_DIR, root) >= (int)sizeof dirpath) {
        fprintf(stderr, "kpsim list: %s: path too long\n", root);
        return KP_EXIT_USAGE;
    }
    DIR *dir = opendir(dirpath);
    if (!dir) {
        fprintf(stderr, "kpsim list: %s: %s\n", dirpath, strerror(errno));
        return KP_EXIT_USAGE;
    }
    char **files = NULL;
    size_t nfiles = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l <= 7 || strcmp(de->d_name + l - 7, ".textpb") || de->d_name[0] == '.')
            continue;
        char **f = realloc(files, (nfiles + 1) * sizeof *f);
        if (!f)
            break;
        files = f;
        files[nfiles] = strdup(de->d_name);
        if (files[nfiles])
            nfiles++;
    }
    closedir(dir);
    qsort(files, nfiles, sizeof *files, kp_name_cmp); /* errors in a stable order */

    int rc = KP_EXIT_OK;
    kp_entry *ents = calloc(nfiles ? nfiles : 1, sizeof *ents);
    size_t nents = 0;
    for (size_t i = 0; ents && i < nfiles; i++) {
        char rel[PATH_MAX], open_path[PATH_MAX * 2];
        if (snprintf(rel, sizeof rel, KP_CATALOG_DIR "/%s", files[i]) >= (int)sizeof rel ||
            snprintf(open_path, sizeof open_path, "%s%s%s", at_root ? "" : root, at_root ? "" : "/", rel) >=
                (int)sizeof open_path) {
            fprintf(stderr, "kpsim list: %s: path too long\n", files[i]);
            rc = KP_EXIT_USAGE;
            continue;
        }
        sc_error err;
        sc_scenario *sc = sc_scenario_load(open_path, &err);
        if (!sc) {
            fprintf(stderr, "%s\n", err.text);
            rc = KP_EXIT_USAGE;
            continue;
        }
        const Kpsim__Scenario *s = sc_scenario_proto(sc);
        ents[nents] = (kp_entry){ strdup(s->family), strdup(s->name), strdup(rel), strdup(s->purpose) };
        if (ents[nents].family && ents[nents].name && ents[nents].path && ents[nents].purpose) {
            nents++;
        } else {
            free(ents[nents].family);
            free(ents[nents].name);
            free(ents[nents].path);
            free(ents[nents].purpose);
        }
        sc_scenario_free(sc);
    }
    qsort(ents, nents, sizeof *ents, kp_entry_cmp);
    for (size_t i = 0; i < nents; i++)
        printf("%s\t%s\n", ents[i].path, ents[i].purpose);
    for (size_t i = 0; ents && i < nfiles; i++) {
        if (i < nents) {
            free(ents[i].family);
            free(ents[i].name);
            free(ents[i].path);
            free(ents[i].purpose);
        }
    }
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    free(ents);
    return rc;
}
