/* SPDX-License-Identifier: MIT */
/*
 * jsonl.c -- a reader and writer for flat JSON-lines objects (jsonl.h).
 *
 * A small recursive-descent reader: the tools' files are flat objects, so
 * arrays and nested objects are refused rather than skipped.
 */
#include "jsonl.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading ---------------------------------------------------------------- */

typedef struct {
    const char *p;
    char *err;
    size_t err_size;
} cursor;

static int error_at(cursor *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->err_size > 0)
        vsnprintf(c->err, c->err_size, fmt, ap);
    va_end(ap);
    return -1;
}

static void skip_blanks(cursor *c)
{
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')
        c->p++;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Appends the UTF-8 encoding of code point cp (below 0x10000). */
static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* A string at c->p (which is at the opening quote), unescaped into a new
 * buffer. The unescaped text is never longer than the escaped one. */
static int parse_string(cursor *c, char **out)
{
    const char *start = ++c->p;
    while (*c->p && *c->p != '"')
        c->p += (*c->p == '\\' && c->p[1]) ? 2 : 1;
    if (*c->p != '"')
        return error_at(c, "unterminated string");
    char *s = malloc((size_t)(c->p - start) + 1), *o = s;
    if (!s)
        return error_at(c, "out of memory");
    for (const char *q = start; q < c->p; q++) {
        if (*q != '\\') {
            *o++ = *q;
            continue;
        }
        q++;
        switch (*q) {
        case '"': case '\\': case '/': *o++ = *q; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 1; i <= 4; i++) {
                int d = q + i < c->p ? hex_digit(q[i]) : -1;
                if (d < 0) {
                    free(s);
                    return error_at(c, "bad \\u escape");
                }
                cp = cp * 16 + (unsigned)d;
            }
            o = put_utf8(o, cp);
            q += 4;
            break;
        }
        default:
            free(s);
            return error_at(c, "bad escape '\\%c'", *q);
        }
    }
    *o = '\0';
    c->p++;
    *out = s;
    return 0;
}

static int parse_literal(cursor *c, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(c->p, word, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

static int parse_value(cursor *c, jsonl_field *f)
{
    if (*c->p == '"') {
        f->type = JSONL_STRING;
        return parse_string(c, &f->string);
    }
    if (parse_literal(c, "null") == 0) {
        f->type = JSONL_NULL;
        return 0;
    }
    if (parse_literal(c, "true") == 0 || parse_literal(c, "false") == 0) {
        f->type = JSONL_BOOL;
        f->number = c->p[-1] == 'e' && c->p[-2] == 'u';
        return 0;
    }
    if (*c->p == '-' || isdigit((unsigned char)*c->p)) {
        char *end;
        errno = 0;
        f->number = strtod(c->p, &end);
        if (end == c->p || !isfinite(f->number))
            return error_at(c, "bad number");
        f->type = JSONL_NUMBER;
        c->p = end;
        return 0;
    }
    if (*c->p == '[' || *c->p == '{')
        return error_at(c, "nested arrays and objects are not supported");
    return error_at(c, "unexpected '%c'", *c->p ? *c->p : '?');
}

static int add_field(jsonl_row *row, cursor *c, jsonl_field *f)
{
    jsonl_field *grown = realloc(row->fields, (row->n + 1) * sizeof *grown);
    if (!grown)
        return error_at(c, "out of memory");
    row->fields = grown;
    row->fields[row->n++] = *f;
    return 0;
}

static int parse_member(cursor *c, jsonl_row *row)
{
    jsonl_field f = {0};
    skip_blanks(c);
    if (*c->p != '"')
        return error_at(c, "expected a key");
    if (parse_string(c, &f.key) != 0)
        return -1;
    skip_blanks(c);
    if (*c->p != ':') {
        error_at(c, "expected ':' after \"%s\"", f.key);
        free(f.key);
        return -1;
    }
    c->p++;
    skip_blanks(c);
    if (parse_value(c, &f) != 0 || add_field(row, c, &f) != 0) {
        free(f.key);
        free(f.string);
        return -1;
    }
    return 0;
}

int jsonl_parse(const char *line, jsonl_row *row, char *err, size_t err_size)
{
    cursor c = {line, err, err_size};
    row->fields = NULL;
    row->n = 0;
    skip_blanks(&c);
    if (*c.p != '{')
        return error_at(&c, "expected '{'");
    c.p++;
    skip_blanks(&c);
    if (*c.p == '}') {
        c.p++;
    } else {
        for (;;) {
            if (parse_member(&c, row) != 0)
                goto fail;
            skip_blanks(&c);
            if (*c.p == ',') {
                c.p++;
                continue;
            }
            if (*c.p == '}') {
                c.p++;
                break;
            }
            error_at(&c, "expected ',' or '}'");
            goto fail;
        }
    }
    skip_blanks(&c);
    if (*c.p == '\0')
        return 0;
    error_at(&c, "text after the object");
fail:
    jsonl_row_free(row);
    return -1;
}

void jsonl_row_free(jsonl_row *row)
{
    for (size_t i = 0; i < row->n; i++) {
        free(row->fields[i].key);
        free(row->fields[i].string);
    }
    free(row->fields);
    row->fields = NULL;
    row->n = 0;
}

const jsonl_field *jsonl_get(const jsonl_row *row, const char *key)
{
    for (size_t i = 0; i < row->n; i++)
        if (strcmp(row->fields[i].key, key) == 0)
            return &row->fields[i];
    return NULL;
}

double jsonl_number(const jsonl_row *row, const char *key, double fallback)
{
    const jsonl_field *f = jsonl_get(row, key);
    return f && f->type == JSONL_NUMBER ? f->number : fallback;
}

const char *jsonl_string(const jsonl_row *row, const char *key, const char *fallback)
{
    const jsonl_field *f = jsonl_get(row, key);
    return f && f->type == JSONL_STRING ? f->string : fallback;
}

/* One line of any length from fp into *buf (grown as needed); -1 at EOF. */
static long read_line(FILE *fp, char **buf, size_t *cap)
{
    size_t n = 0;
    int ch;
    while ((ch = getc(fp)) != EOF) {
        if (n + 2 > *cap) {
            size_t cap2 = *cap ? 2 * *cap : 256;
            char *grown = realloc(*buf, cap2);
            if (!grown)
                return -2;
            *buf = grown;
            *cap = cap2;
        }
        if (ch == '\n')
            break;
        (*buf)[n++] = (char)ch;
    }
    if (ch == EOF && n == 0)
        return -1;
    (*buf)[n] = '\0';
    return (long)n;
}

static int is_blank_line(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

int jsonl_read_file(const char *path, jsonl_row **rows, size_t *n_rows, char *err,
                    size_t err_size)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL, why[160];
    size_t cap = 0, line_no = 0;
    long len;
    int rc = 0;

    *rows = NULL;
    *n_rows = 0;
    if (!fp) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && (len = read_line(fp, &line, &cap)) != -1) {
        jsonl_row row, *grown;
        line_no++;
        if (len == -2) {
            snprintf(err, err_size, "%s:%zu: out of memory", path, line_no);
            rc = -1;
        } else if (is_blank_line(line)) {
            continue;
        } else if (jsonl_parse(line, &row, why, sizeof why) != 0) {
            snprintf(err, err_size, "%s:%zu: %s", path, line_no, why);
            rc = -1;
        } else if (!(grown = realloc(*rows, (*n_rows + 1) * sizeof *grown))) {
            jsonl_row_free(&row);
            snprintf(err, err_size, "%s:%zu: out of memory", path, line_no);
            rc = -1;
        } else {
            *rows = grown;
            (*rows)[(*n_rows)++] = row;
        }
    }
    if (rc == 0 && ferror(fp)) {
        snprintf(err, err_size, "%s: read error", path);
        rc = -1;
    }
    free(line);
    fclose(fp);
    if (rc != 0) {
        jsonl_rows_free(*rows, *n_rows);
        *rows = NULL;
        *n_rows = 0;
    }
    return rc;
}

void jsonl_rows_free(jsonl_row *rows, size_t n_rows)
{
    for (size_t i = 0; i < n_rows; i++)
        jsonl_row_free(&rows[i]);
    free(rows);
}

/* ---- writing ------------------------------------------------------------------ */

void jsonl_begin(jsonl_writer *w, FILE *out)
{
    w->out = out;
    w->n = 0;
    fputc('{', out);
}

/* A JSON string literal: quotes, backslashes and control bytes escaped. */
static void write_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void put_key(jsonl_writer *w, const char *key)
{
    if (w->n++ > 0)
        fputc(',', w->out);
    write_quoted(w->out, key);
    fputc(':', w->out);
}

void jsonl_put_string(jsonl_writer *w, const char *key, const char *value)
{
    put_key(w, key);
    write_quoted(w->out, value);
}

/* The fewest significant digits (up to 17, which always suffice) that
 * read back as the same double: 0.1 stays "0.1", not 0.10000000000000001,
 * so files stay readable and a value compares equal after a round trip. */
void jsonl_format_number(char *buf, size_t size, double value)
{
    if (!isfinite(value)) {
        snprintf(buf, size, "null");
        return;
    }
    /* Whole numbers in full (10000, not 1e+04), up to 2^53 where every
     * whole double is exact. */
    if (value == floor(value) && fabs(value) <= 9007199254740992.0) {
        snprintf(buf, size, "%.0f", value);
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, value);
        if (strtod(buf, NULL) == value)
            return;
    }
}

void jsonl_put_number(jsonl_writer *w, const char *key, double value)
{
    char text[32];
    put_key(w, key);
    jsonl_format_number(text, sizeof text, value);
    fputs(text, w->out);
}

void jsonl_put_size(jsonl_writer *w, const char *key, size_t value)
{
    put_key(w, key);
    fprintf(w->out, "%zu", value);
}

void jsonl_put_u64(jsonl_writer *w, const char *key, unsigned long long value)
{
    put_key(w, key);
    fprintf(w->out, "%llu", value);
}

void jsonl_put_bool(jsonl_writer *w, const char *key, int value)
{
    put_key(w, key);
    fputs(value ? "true" : "false", w->out);
}

void jsonl_put_null(jsonl_writer *w, const char *key)
{
    put_key(w, key);
    fputs("null", w->out);
}

void jsonl_end(jsonl_writer *w)
{
    fputs("}\n", w->out);
}
