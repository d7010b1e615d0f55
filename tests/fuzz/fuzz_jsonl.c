/* SPDX-License-Identifier: MIT */
/*
 * fuzz_jsonl.c -- libFuzzer target: the tools' JSON-lines reader
 * (tools/jsonl.c, jsonl_parse), checked against its writer.
 *
 * The input is one line (a NUL ends it early, as it would a C string).
 * Checks: a line that fails leaves an empty row and a message; a line
 * that parses, written back with jsonl_put_* and parsed again, gives the
 * same fields (keys, types, values, order), and jsonl_get finds the first
 * field of each key.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include "fuzz.h"
#include "jsonl.h"

#include <string.h>

static void write_row(const jsonl_row *row, char **text, size_t *len)
{
    FILE *mem = open_memstream(text, len);
    FUZZ_ASSERT(mem);
    jsonl_writer w;
    jsonl_begin(&w, mem);
    for (size_t i = 0; i < row->n; i++) {
        const jsonl_field *f = &row->fields[i];
        switch (f->type) {
        case JSONL_NULL: jsonl_put_null(&w, f->key); break;
        case JSONL_BOOL: jsonl_put_bool(&w, f->key, f->number != 0); break;
        case JSONL_NUMBER: jsonl_put_number(&w, f->key, f->number); break;
        case JSONL_STRING: jsonl_put_string(&w, f->key, f->string); break;
        }
    }
    jsonl_end(&w);
    FUZZ_ASSERT(fclose(mem) == 0);
}

static void check_same(const jsonl_row *a, const jsonl_row *b)
{
    FUZZ_ASSERT(a->n == b->n);
    for (size_t i = 0; i < a->n; i++) {
        const jsonl_field *f = &a->fields[i], *g = &b->fields[i];
        FUZZ_ASSERT(strcmp(f->key, g->key) == 0 && f->type == g->type);
        if (f->type == JSONL_STRING)
            FUZZ_ASSERT(strcmp(f->string, g->string) == 0);
        if (f->type == JSONL_NUMBER || f->type == JSONL_BOOL)
            FUZZ_ASSERT(f->number == g->number);
    }
}

static void check_lookups(const jsonl_row *row)
{
    for (size_t i = 0; i < row->n; i++) {
        const jsonl_field *f = &row->fields[i], *first = jsonl_get(row, f->key);
        FUZZ_ASSERT(first && first <= f && strcmp(first->key, f->key) == 0);
        double fallback = -12345.5;
        double num = jsonl_number(row, f->key, fallback);
        FUZZ_ASSERT(first->type == JSONL_NUMBER ? num == first->number : num == fallback);
        const char *str = jsonl_string(row, f->key, NULL);
        FUZZ_ASSERT(first->type == JSONL_STRING ? str == first->string : str == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    FUZZ_ASSERT(line);
    memcpy(line, data, size);
    line[size] = '\0';
    jsonl_row row, again;
    char err[160] = "";
    if (jsonl_parse(line, &row, err, sizeof err) != 0) {
        FUZZ_ASSERT(row.n == 0 && row.fields == NULL && err[0] != '\0');
        free(line);
        return 0;
    }
    check_lookups(&row);
    char *text = NULL;
    size_t len = 0;
    write_row(&row, &text, &len);
    FUZZ_ASSERT(jsonl_parse(text, &again, err, sizeof err) == 0);
    check_same(&row, &again);
    jsonl_row_free(&again);
    jsonl_row_free(&row);
    free(text);
    free(line);
    return 0;
}
