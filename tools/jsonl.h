/* SPDX-License-Identifier: MIT */
/*
 * jsonl.h -- the JSON-lines files the example tools write and read.
 *
 * pcmup-train --json, pcmup-sweep and pcmup-coord write one flat JSON
 * object per line; pcmup-sweep reads its own output back (to resume) and
 * pcmup-plot reads both. Only what those files contain is supported: an
 * object of string, number, true/false and null values, no nesting.
 */
#ifndef PCMUP_JSONL_H
#define PCMUP_JSONL_H

#include <stddef.h>
#include <stdio.h>

typedef enum { JSONL_NULL, JSONL_BOOL, JSONL_NUMBER, JSONL_STRING } jsonl_type;

typedef struct {
    char *key;
    jsonl_type type;
    double number;  /* JSONL_NUMBER; JSONL_BOOL: 0 or 1 */
    char *string;   /* JSONL_STRING, unescaped          */
} jsonl_field;

typedef struct {
    jsonl_field *fields;
    size_t n;
} jsonl_row;

/* Parses one line (an object, surrounding blanks allowed). Returns 0, or -1
 * with a message in err (the row is then empty). */
int jsonl_parse(const char *line, jsonl_row *row, char *err, size_t err_size);
void jsonl_row_free(jsonl_row *row);

/* The field called `key`, or NULL. */
const jsonl_field *jsonl_get(const jsonl_row *row, const char *key);
/* The number under `key`; `fallback` if it is absent or not a number. */
double jsonl_number(const jsonl_row *row, const char *key, double fallback);
/* The string under `key`; `fallback` if it is absent or not a string. */
const char *jsonl_string(const jsonl_row *row, const char *key, const char *fallback);

/* Reads every non-blank line of a file. A file that does not exist gives 0
 * rows and returns 0 (so a new output file can be "resumed"); a line that
 * does not parse returns -1 with "FILE:LINE: why" in err. *rows is freed
 * with jsonl_rows_free. */
int jsonl_read_file(const char *path, jsonl_row **rows, size_t *n_rows, char *err,
                    size_t err_size);
void jsonl_rows_free(jsonl_row *rows, size_t n_rows);

/* Writing: jsonl_begin prints "{", every jsonl_put_* prints one member with
 * the comma it needs (w->n counts them), jsonl_end prints "}\n". Numbers
 * that are not finite are written as null (JSON has no inf or nan). */
typedef struct {
    FILE *out;
    size_t n;
} jsonl_writer;

void jsonl_begin(jsonl_writer *w, FILE *out);
void jsonl_put_string(jsonl_writer *w, const char *key, const char *value);
void jsonl_put_number(jsonl_writer *w, const char *key, double value);
void jsonl_put_size(jsonl_writer *w, const char *key, size_t value);
void jsonl_put_u64(jsonl_writer *w, const char *key, unsigned long long value);
void jsonl_put_bool(jsonl_writer *w, const char *key, int value);
void jsonl_put_null(jsonl_writer *w, const char *key);
void jsonl_end(jsonl_writer *w);

/* A number as jsonl_put_number writes it: the shortest text that reads
 * back as the same double, "null" if it is not finite. 32 bytes suffice. */
void jsonl_format_number(char *buf, size_t size, double value);

#endif /* PCMUP_JSONL_H */
