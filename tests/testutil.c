#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tu_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- counting allocator ------------------------------------------------ */

static int should_fail(tu_counter *c)
{
    if (c->fail_after == 0)
        return 0;
    return --c->fail_after == 0;
}

static void *count_malloc(void *user, size_t size)
{
    tu_counter *c = user;
    c->n_malloc++;
    if (should_fail(c))
        return NULL;
    void *p = malloc(size);
    if (p)
        c->live++;
    return p;
}

static void *count_realloc(void *user, void *ptr, size_t size)
{
    tu_counter *c = user;
    c->n_realloc++;
    if (should_fail(c))
        return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        c->live++;
    return p;
}

static void count_free(void *user, void *ptr)
{
    tu_counter *c = user;
    c->n_free++;
    if (ptr)
        c->live--;
    free(ptr);
}

pcmup_allocator tu_counting_allocator(tu_counter *counter)
{
    memset(counter, 0, sizeof *counter);
    pcmup_allocator a = {count_malloc, count_realloc, count_free, counter};
    return a;
}

/* ---- reference vectors ------------------------------------------------- */

const char *tu_data_path(const char *relative)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", PCMUP_TEST_DATA_DIR, relative);
    return path;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

tu_case *tu_case_load(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "vectors/%s/case.txt", name);
    FILE *f = fopen(tu_data_path(rel), "r");
    ck_assert_msg(f != NULL, "cannot open %s", tu_data_path(rel));
    tu_case *c = calloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        c->keys = realloc(c->keys, (c->n_keys + 1) * sizeof *c->keys);
        c->values = realloc(c->values, (c->n_keys + 1) * sizeof *c->values);
        c->keys[c->n_keys] = strdup(trim(line));
        c->values[c->n_keys] = strdup(trim(eq + 1));
        c->n_keys++;
    }
    fclose(f);
    return c;
}

void tu_case_free(tu_case *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_keys; i++) {
        free(c->keys[i]);
        free(c->values[i]);
    }
    free(c->keys);
    free(c->values);
    free(c);
}

const char *tu_case_str(const tu_case *c, const char *key)
{
    for (size_t i = 0; i < c->n_keys; i++)
        if (strcmp(c->keys[i], key) == 0)
            return c->values[i];
    ck_abort_msg("case %s has no key %s", c->name, key);
    return NULL;
}

double tu_case_num(const tu_case *c, const char *key)
{
    return strtod(tu_case_str(c, key), NULL);
}

double tu_case_list(const tu_case *c, const char *key, size_t i)
{
    const char *s = tu_case_str(c, key);
    char *end;
    double v = 0;
    for (size_t k = 0; k <= i; k++) {
        v = strtod(s, &end);
        ck_assert_msg(end != s, "case %s: %s has fewer than %zu numbers", c->name, key, i + 1);
        s = end;
    }
    return v;
}

static void *read_raw(const tu_case *c, const char *file, size_t elem, size_t *n)
{
    char rel[256];
    snprintf(rel, sizeof rel, "vectors/%s/%s", c->name, file);
    FILE *f = fopen(tu_data_path(rel), "rb");
    ck_assert_msg(f != NULL, "cannot open %s", tu_data_path(rel));
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)bytes + 1);
    size_t got = fread(buf, 1, (size_t)bytes, f);
    fclose(f);
    ck_assert_msg(got == (size_t)bytes && bytes % (long)elem == 0, "bad file %s", file);
    *n = (size_t)bytes / elem;
    return buf;
}

double *tu_case_f64(const tu_case *c, const char *file, size_t *n)
{
    char name[128];
    snprintf(name, sizeof name, "%s.f64", file);
    /* The files are little-endian; so is every machine we build on. */
    return read_raw(c, name, sizeof(double), n);
}

int32_t *tu_case_i32(const tu_case *c, const char *file, size_t *n)
{
    char name[128];
    snprintf(name, sizeof name, "%s.i32", file);
    return read_raw(c, name, sizeof(int32_t), n);
}

double tu_rel_err(const double *a, const double *b, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs(a[i] - b[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    return scale > 0 ? diff / scale : diff;
}
