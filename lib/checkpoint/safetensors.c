/* SPDX-License-Identifier: MIT */
/*
 * safetensors.c -- the safetensors format (safetensors.h): the reader, a
 * strict JSON parser shaped by the header's schema, and the writer with
 * its atomic replacement of the file.
 *
 * The header is parsed twice by the same code. The first pass checks
 * everything the JSON can say wrong and counts the tensors and metadata
 * entries; the second, which cannot fail, fills arrays allocated to those
 * counts. Strings are unescaped into one block of N bytes (an unescaped
 * string and its NUL never take more room than the string's quoted text),
 * so every allocation is bounded by the header's length N.
 *
 * No position in the schema admits an arbitrary JSON value: the header is
 * an object of objects whose values are a string, or arrays of integers,
 * or (metadata) strings. So the parser asks at each position for the one
 * kind of value the schema allows there and refuses anything else, which
 * also bounds the nesting at three levels; true, false, null, fractions
 * and exponents are valid JSON but never a valid header.
 */
#include "checkpoint/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define LEN_BYTES 8 /* the header length's field */
#define F32_BYTES 4
/* The writer pads the header so that the data starts at a multiple of 8. */
#define HEADER_ALIGN 8
#define METADATA_KEY "__metadata__"
#define CRC_KEY "crc32"
#define CRC_DIGITS 8
/* zlib counts in unsigned ints: hand it at most this per call. */
#define CRC_CHUNK ((size_t)1 << 30)
/* write() and read() at most this per call (well below SSIZE_MAX). */
#define IO_CHUNK ((size_t)1 << 30)
/* Temporary names tried before giving up on EEXIST. */
#define TMP_TRIES 100
/* The widest "[d0, d1, ...]" of a shape in a message. */
#define SHAPE_TEXT (PCMUP__ST_MAX_RANK * 22 + 3)

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* ---- UTF-8 ------------------------------------------------------------------- */

/* The length (1 .. 4) of the well-formed UTF-8 sequence at s, which has
 * `avail` bytes, or 0: no overlong forms, no surrogates, nothing past
 * U+10FFFF (RFC 3629's table). */
static size_t utf8_sequence(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F; /* U+D800 .. U+DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0, C1, F5 .. FF */
    }
    if (avail < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Whether the C string s is UTF-8 (the writer's names, keys, values). */
static int utf8_valid(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t avail = strlen(s);
    while (avail > 0) {
        size_t len = utf8_sequence(u, avail);
        if (len == 0)
            return 0;
        u += len;
        avail -= len;
    }
    return 1;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- shapes -------------------------------------------------------------------- */

size_t pcmup__st_floats(const pcmup__st_tensor *t)
{
    size_t n = 1;
    for (size_t i = 0; i < t->rank; i++)
        n *= t->shape[i];
    return n;
}

/* The shape's byte count, or 0 with *overflow set when the running
 * product exceeds SIZE_MAX (as the format's reference implementation
 * checks it: [2^40, 2^40, 0] overflows before the 0). */
static size_t shape_bytes(const size_t *shape, size_t rank, int *overflow)
{
    size_t n = F32_BYTES;
    for (size_t i = 0; i < rank && !*overflow; i++)
        n = pcmup__mul(n, shape[i], overflow);
    return n;
}

static void shape_text(const size_t *shape, size_t rank, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (size_t i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? ", " : "", shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* ---- the header parser ----------------------------------------------------------- */

/* A tensor as the header gives it, before the ranges are checked. */
typedef struct {
    pcmup__st_tensor t;
    uint64_t begin, end;
} entry;

typedef struct {
    const unsigned char *s; /* the header's N bytes */
    size_t n, pos;
    const char *func;
    char *strings, *out; /* the strings' block and its first free byte */
    int store;           /* second pass: fill entries and meta */
    int seen_metadata;
    entry *entries;
    pcmup__st_meta *meta;
    size_t n_entries, n_meta;
} parser;

static pcmup_status syntax(const parser *p, const char *what)
{
    if (p->pos >= p->n)
        return pcmup__fail(PCMUP_ERR_FORMAT, p->func, "header ends at byte %zu, expected %s",
                           p->n, what);
    unsigned char c = p->s[p->pos];
    if (c >= 0x20 && c < 0x7F)
        return pcmup__fail(PCMUP_ERR_FORMAT, p->func, "header byte %zu: '%c', expected %s",
                           p->pos, c, what);
    return pcmup__fail(PCMUP_ERR_FORMAT, p->func, "header byte %zu: 0x%02x, expected %s",
                       p->pos, c, what);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                             p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

/* The next non-blank byte, or -1 at the end. */
static int peek(parser *p)
{
    skip_ws(p);
    return p->pos < p->n ? p->s[p->pos] : -1;
}

static pcmup_status expect(parser *p, char c, const char *what)
{
    if (peek(p) != (unsigned char)c)
        return syntax(p, what);
    p->pos++;
    return PCMUP_OK;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The four hex digits after "\u" at p->pos (which points at the 'u'). */
static pcmup_status hex4(parser *p, uint32_t *cp)
{
    *cp = 0;
    for (size_t i = 1; i <= 4; i++) {
        int v = p->pos + i < p->n ? hex_value(p->s[p->pos + i]) : -1;
        if (v < 0)
            return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                               "header byte %zu: \\u needs four hex digits", p->pos - 1);
        *cp = *cp << 4 | (uint32_t)v;
    }
    p->pos += 5;
    return PCMUP_OK;
}

/* The escape at p->pos (just after the backslash), appended at *out. */
static pcmup_status unescape(parser *p, char **out)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    size_t at = p->pos - 1;
    if (p->pos >= p->n)
        return syntax(p, "an escape");
    const char *k = memchr(from, p->s[p->pos], sizeof from - 1);
    if (k) {
        *(*out)++ = to[k - from];
        p->pos++;
        return PCMUP_OK;
    }
    if (p->s[p->pos] != 'u')
        return syntax(p, "an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)");
    uint32_t cp;
    PCMUP_TRY(hex4(p, &cp));
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                           "header byte %zu: \\u%04X is a low surrogate without a high one", at,
                           (unsigned)cp);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t low = 0;
        if (p->pos + 1 < p->n && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
            p->pos++;
            PCMUP_TRY(hex4(p, &low));
        }
        if (low < 0xDC00 || low > 0xDFFF)
            return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                               "header byte %zu: \\u%04X is a high surrogate without a low one",
                               at, (unsigned)cp);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (cp == 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                           "header byte %zu: \\u0000 (NUL) in a string", at);
    *out += utf8_encode(cp, *out);
    return PCMUP_OK;
}

/* The string at the cursor, unescaped and NUL-terminated into the strings'
 * block at p->out, which it advances past. A caller that only compares the
 * string (a field name, a dtype) moves p->out back to *str afterwards. */
static pcmup_status parse_string(parser *p, const char **str, const char *what)
{
    if (peek(p) != '"')
        return syntax(p, what);
    p->pos++;
    char *out = p->out;
    *str = out;
    for (;;) {
        if (p->pos >= p->n)
            return syntax(p, "'\"' closing the string");
        unsigned char c = p->s[p->pos];
        if (c == '"')
            break;
        if (c == '\\') {
            p->pos++;
            PCMUP_TRY(unescape(p, &out));
        } else if (c < 0x20) {
            return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                               "header byte %zu: control character 0x%02x in a string "
                               "(JSON needs it escaped)", p->pos, c);
        } else {
            size_t len = utf8_sequence(p->s + p->pos, p->n - p->pos);
            if (len == 0)
                return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                                   "header byte %zu: invalid UTF-8 (0x%02x)", p->pos, c);
            memcpy(out, p->s + p->pos, len);
            out += len;
            p->pos += len;
        }
    }
    p->pos++;
    *out++ = '\0';
    p->out = out;
    return PCMUP_OK;
}

/* A non-negative integer: JSON's digits, without sign, fraction or
 * exponent (the schema's offsets and dimensions), at most UINT64_MAX. */
static pcmup_status parse_uint(parser *p, uint64_t *v, const char *what)
{
    int c = peek(p);
    if (c < '0' || c > '9')
        return syntax(p, what);
    size_t start = p->pos;
    *v = 0;
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        unsigned d = (unsigned)(p->s[p->pos] - '0');
        if (*v > (UINT64_MAX - d) / 10)
            return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                               "header byte %zu: %s exceeds %llu", start, what,
                               (unsigned long long)UINT64_MAX);
        *v = *v * 10 + d;
        p->pos++;
    }
    if (p->s[start] == '0' && p->pos - start > 1)
        return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                           "header byte %zu: number with a leading zero", start);
    if (p->pos < p->n && (p->s[p->pos] == '.' || p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
        return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                           "header byte %zu: %s must be an integer (no fraction or exponent)",
                           start, what);
    return PCMUP_OK;
}

/* After an array's or object's member: ',' (returns 1) or `close` (0). */
static pcmup_status next_member(parser *p, char close, const char *what, int *more)
{
    int c = peek(p);
    if (c != ',' && c != close)
        return syntax(p, what);
    p->pos++;
    *more = c == ',';
    return PCMUP_OK;
}

static pcmup_status parse_shape(parser *p, const char *name, entry *e)
{
    PCMUP_TRY(expect(p, '[', "'[' opening a shape"));
    if (peek(p) == ']') {
        p->pos++;
        return PCMUP_OK;
    }
    for (int more = 1; more;) {
        if (e->t.rank == PCMUP__ST_MAX_RANK)
            return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                               "tensor \"%s\": shape has more than %d dimensions", name,
                               PCMUP__ST_MAX_RANK);
        uint64_t d;
        PCMUP_TRY(parse_uint(p, &d, "a dimension"));
        if (d > SIZE_MAX)
            return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                               "tensor \"%s\": dimension %llu exceeds SIZE_MAX", name,
                               (unsigned long long)d);
        e->t.shape[e->t.rank++] = (size_t)d;
        PCMUP_TRY(next_member(p, ']', "',' or ']' in a shape", &more));
    }
    return PCMUP_OK;
}

static pcmup_status parse_offsets(parser *p, entry *e)
{
    PCMUP_TRY(expect(p, '[', "'[' opening data_offsets"));
    PCMUP_TRY(parse_uint(p, &e->begin, "an offset"));
    PCMUP_TRY(expect(p, ',', "',' between the two data_offsets"));
    PCMUP_TRY(parse_uint(p, &e->end, "an offset"));
    return expect(p, ']', "']' after the two data_offsets");
}

enum { F_DTYPE, F_SHAPE, F_OFFSETS, N_FIELDS };
static const char *const field_names[N_FIELDS] = {"dtype", "shape", "data_offsets"};

static pcmup_status parse_field(parser *p, int field, const char *name, entry *e)
{
    if (field == F_SHAPE)
        return parse_shape(p, name, e);
    if (field == F_OFFSETS)
        return parse_offsets(p, e);
    const char *dtype;
    PCMUP_TRY(parse_string(p, &dtype, "a string (the dtype)"));
    p->out = (char *)dtype;
    if (strcmp(dtype, "F32") != 0)
        return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                           "tensor \"%s\": dtype \"%s\": only F32 is supported", name, dtype);
    return PCMUP_OK;
}

/* {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}, in any order. */
static pcmup_status parse_tensor(parser *p, const char *name)
{
    entry e = {{name, 0, {0}, NULL}, 0, 0};
    int seen[N_FIELDS] = {0};
    PCMUP_TRY(expect(p, '{', "'{' opening a tensor"));
    int more = peek(p) != '}';
    if (!more)
        p->pos++;
    while (more) {
        const char *key;
        PCMUP_TRY(parse_string(p, &key, "a field name"));
        p->out = (char *)key;
        int field = 0;
        while (field < N_FIELDS && strcmp(key, field_names[field]) != 0)
            field++;
        if (field == N_FIELDS)
            return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                               "tensor \"%s\": unknown field \"%s\" (only dtype, shape, "
                               "data_offsets)", name, key);
        if (seen[field]++)
            return pcmup__fail(PCMUP_ERR_FORMAT, p->func, "tensor \"%s\": field \"%s\" twice",
                               name, key);
        PCMUP_TRY(expect(p, ':', "':' after a field name"));
        PCMUP_TRY(parse_field(p, field, name, &e));
        PCMUP_TRY(next_member(p, '}', "',' or '}' in a tensor", &more));
    }
    for (int field = 0; field < N_FIELDS; field++)
        if (!seen[field])
            return pcmup__fail(PCMUP_ERR_FORMAT, p->func, "tensor \"%s\": no \"%s\"", name,
                               field_names[field]);
    if (p->store)
        p->entries[p->n_entries] = e;
    p->n_entries++;
    return PCMUP_OK;
}

/* {"key": "value", ...} */
static pcmup_status parse_metadata(parser *p)
{
    if (p->seen_metadata++)
        return pcmup__fail(PCMUP_ERR_FORMAT, p->func, "\"" METADATA_KEY "\" twice");
    PCMUP_TRY(expect(p, '{', "'{' opening " METADATA_KEY));
    int more = peek(p) != '}';
    if (!more)
        p->pos++;
    while (more) {
        pcmup__st_meta m;
        PCMUP_TRY(parse_string(p, &m.key, "a metadata key"));
        PCMUP_TRY(expect(p, ':', "':' after a metadata key"));
        if (peek(p) != '"')
            return pcmup__fail(PCMUP_ERR_FORMAT, p->func,
                               "metadata \"%s\": header byte %zu: the value is not a string",
                               m.key, p->pos);
        PCMUP_TRY(parse_string(p, &m.value, "a string"));
        if (p->store)
            p->meta[p->n_meta] = m;
        p->n_meta++;
        PCMUP_TRY(next_member(p, '}', "',' or '}' in " METADATA_KEY, &more));
    }
    return PCMUP_OK;
}

/* One pass over the header (see the file's comment). */
static pcmup_status parse_header(parser *p)
{
    p->pos = 0;
    p->out = p->strings;
    p->seen_metadata = 0;
    p->n_entries = p->n_meta = 0;
    if (p->n == 0 || p->s[0] != '{')
        return pcmup__fail(PCMUP_ERR_FORMAT, p->func, "the header does not start with '{'");
    p->pos = 1;
    int more = peek(p) != '}';
    if (!more)
        p->pos++;
    while (more) {
        const char *name;
        PCMUP_TRY(parse_string(p, &name, "a tensor name"));
        PCMUP_TRY(expect(p, ':', "':' after a tensor name"));
        if (strcmp(name, METADATA_KEY) == 0) {
            p->out = (char *)name;
            PCMUP_TRY(parse_metadata(p));
        } else {
            if (name[0] == '\0')
                return pcmup__fail(PCMUP_ERR_FORMAT, p->func, "a tensor has an empty name");
            PCMUP_TRY(parse_tensor(p, name));
        }
        PCMUP_TRY(next_member(p, '}', "',' or '}' after a tensor", &more));
    }
    for (; p->pos < p->n; p->pos++)
        if (p->s[p->pos] != ' ')
            return syntax(p, "nothing but spaces after the header's object");
    return PCMUP_OK;
}

/* ---- checks on the parsed header ---------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->t.name, ((const entry *)b)->t.name);
}

static int by_offsets(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->t.name, y->t.name);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static pcmup_status check_unique(entry *e, size_t n_entries, const pcmup__st_meta *meta,
                                 size_t n_meta, const pcmup_allocator *a, const char *func)
{
    qsort(e, n_entries, sizeof *e, by_name);
    for (size_t i = 1; i < n_entries; i++)
        if (strcmp(e[i - 1].t.name, e[i].t.name) == 0)
            return pcmup__fail(PCMUP_ERR_FORMAT, func, "tensor \"%s\" twice", e[i].t.name);
    if (n_meta < 2)
        return PCMUP_OK;
    const char **keys = pcmup__alloc(a, n_meta, sizeof *keys);
    if (!keys)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %zu metadata keys", n_meta);
    for (size_t i = 0; i < n_meta; i++)
        keys[i] = meta[i].key;
    qsort(keys, n_meta, sizeof *keys, by_string);
    pcmup_status s = PCMUP_OK;
    for (size_t i = 1; i < n_meta && s == PCMUP_OK; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            s = pcmup__fail(PCMUP_ERR_FORMAT, func, "metadata key \"%s\" twice", keys[i]);
    pcmup__free(a, keys);
    return s;
}

/* One tensor's range against the data section and its shape. */
static pcmup_status check_entry(const entry *e, size_t data_size, const char *func)
{
    const char *name = e->t.name;
    unsigned long long b = e->begin, end = e->end;
    if (end < b)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "tensor \"%s\": data_offsets [%llu, %llu] end before they begin",
                           name, b, end);
    if (end > data_size)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "tensor \"%s\": data_offsets [%llu, %llu] pass the end of the %zu "
                           "data bytes", name, b, end, data_size);
    char shape[SHAPE_TEXT];
    shape_text(e->t.shape, e->t.rank, shape, sizeof shape);
    int overflow = 0;
    size_t need = shape_bytes(e->t.shape, e->t.rank, &overflow);
    if (overflow)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "tensor \"%s\": its shape %s needs more than %zu bytes", name, shape,
                           SIZE_MAX);
    if (end - b != need)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "tensor \"%s\": data_offsets [%llu, %llu] hold %llu bytes, its shape "
                           "%s needs %zu", name, b, end, end - b, shape, need);
    return PCMUP_OK;
}

/* The ranges, sorted, must tile [0, data_size): each begins where the
 * previous one ended, and the last ends at data_size. */
static pcmup_status check_tiling(const entry *e, size_t n, size_t data_size, const char *func)
{
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].begin > at)
            return pcmup__fail(PCMUP_ERR_FORMAT, func,
                               "no tensor holds data bytes [%llu, %llu) (tensor \"%s\" begins "
                               "at %llu)", (unsigned long long)at,
                               (unsigned long long)e[i].begin, e[i].t.name,
                               (unsigned long long)e[i].begin);
        if (e[i].begin < at)
            return pcmup__fail(PCMUP_ERR_FORMAT, func,
                               "tensor \"%s\": data_offsets [%llu, %llu] overlap tensor \"%s\" "
                               "(which ends at %llu)", e[i].t.name,
                               (unsigned long long)e[i].begin, (unsigned long long)e[i].end,
                               e[i - 1].t.name, (unsigned long long)at);
        at = e[i].end;
    }
    if (at != data_size)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "no tensor holds data bytes [%llu, %zu): the tensors end at %llu",
                           (unsigned long long)at, data_size, (unsigned long long)at);
    return PCMUP_OK;
}

static uLong crc_update(uLong crc, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t chunk = n < CRC_CHUNK ? n : CRC_CHUNK;
        crc = crc32(crc, p, (uInt)chunk);
        p += chunk;
        n -= chunk;
    }
    return crc;
}

static pcmup_status check_crc(const char *value, const unsigned char *data, size_t n,
                              int compare, const char *func)
{
    int ok = strlen(value) == CRC_DIGITS;
    for (size_t i = 0; ok && i < CRC_DIGITS; i++)
        ok = (value[i] >= '0' && value[i] <= '9') || (value[i] >= 'a' && value[i] <= 'f');
    if (!ok)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "metadata " CRC_KEY " \"%s\" is not 8 lower-case hex digits", value);
    if (!compare)
        return PCMUP_OK;
    unsigned long want = strtoul(value, NULL, 16);
    unsigned long got = crc_update(crc32(0L, Z_NULL, 0), data, n);
    if (got != want)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "metadata " CRC_KEY " is %s, the %zu data bytes' CRC-32 is %08lx",
                           value, n, got);
    return PCMUP_OK;
}

/* ---- the reader ------------------------------------------------------------------ */

void pcmup__st_free(pcmup__st_file *f)
{
    if (!f)
        return;
    pcmup__free(&f->alloc, f->bytes);
    pcmup__free(&f->alloc, f->tensors);
    pcmup__free(&f->alloc, f->meta);
    pcmup__free(&f->alloc, f->aligned);
    pcmup__free(&f->alloc, f->strings);
    memset(f, 0, sizeof *f);
}

static pcmup_status nomem(const char *what, size_t n, size_t size, const char *func)
{
    return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %s (%zu x %zu bytes)", what, n,
                       size);
}

/* Points the sorted tensors at their data, copied to an aligned block when
 * the data section is not aligned for floats in the file's bytes. */
static pcmup_status place_data(pcmup__st_file *f, const entry *e, const unsigned char *data,
                               size_t data_size, const char *func)
{
    if ((uintptr_t)data % _Alignof(float) != 0) {
        f->aligned = pcmup__alloc(&f->alloc, data_size / F32_BYTES, sizeof(float));
        if (!f->aligned)
            return nomem("the aligned data", data_size / F32_BYTES, sizeof(float), func);
        memcpy(f->aligned, data, data_size);
        data = (const unsigned char *)f->aligned;
    }
    for (size_t i = 0; i < f->n_tensors; i++) {
        f->tensors[i] = e[i].t;
        f->tensors[i].data = (const float *)(const void *)(data + e[i].begin);
    }
    return PCMUP_OK;
}

/* Everything after the length field's check: *f holds bytes and size. */
static pcmup_status parse_file(pcmup__st_file *f, size_t n, int compare_crc, const char *func)
{
    parser p = {f->bytes + LEN_BYTES, n, 0, func, NULL, NULL, 0, 0, NULL, NULL, 0, 0};
    const unsigned char *data = f->bytes + LEN_BYTES + n;
    size_t data_size = f->size - LEN_BYTES - n;
    f->strings = p.strings = pcmup__alloc(&f->alloc, n, 1);
    if (!p.strings)
        return nomem("the header's strings", n, 1, func);
    PCMUP_TRY(parse_header(&p));
    f->n_tensors = p.n_entries;
    f->n_meta = p.n_meta;
    if (f->n_meta > 0 && !(f->meta = pcmup__alloc(&f->alloc, f->n_meta, sizeof *f->meta)))
        return nomem("the metadata", f->n_meta, sizeof *f->meta, func);
    if (f->n_tensors > 0 &&
        !(f->tensors = pcmup__alloc(&f->alloc, f->n_tensors, sizeof *f->tensors)))
        return nomem("the tensors", f->n_tensors, sizeof *f->tensors, func);
    p.entries = pcmup__alloc(&f->alloc, f->n_tensors, sizeof *p.entries);
    if (!p.entries)
        return nomem("the tensors' entries", f->n_tensors, sizeof *p.entries, func);
    p.meta = f->meta;
    p.store = 1;
    pcmup_status s = parse_header(&p);
    assert(s == PCMUP_OK && p.n_entries == f->n_tensors && p.n_meta == f->n_meta);
    if (s == PCMUP_OK)
        s = check_unique(p.entries, p.n_entries, p.meta, p.n_meta, &f->alloc, func);
    for (size_t i = 0; i < p.n_entries && s == PCMUP_OK; i++)
        s = check_entry(&p.entries[i], data_size, func);
    if (s == PCMUP_OK) {
        qsort(p.entries, p.n_entries, sizeof *p.entries, by_offsets);
        s = check_tiling(p.entries, p.n_entries, data_size, func);
    }
    const char *crc = pcmup__st_meta_find(f, CRC_KEY);
    if (s == PCMUP_OK && crc)
        s = check_crc(crc, data, data_size, compare_crc, func);
    if (s == PCMUP_OK)
        s = place_data(f, p.entries, data, data_size, func);
    pcmup__free(&f->alloc, p.entries);
    return s;
}

/* pcmup__st_parse, comparing crc32 with the data or not. */
static pcmup_status parse(pcmup__st_file *f, unsigned char *bytes, size_t size, int compare_crc,
                          const pcmup_allocator *alloc, const char *func)
{
    memset(f, 0, sizeof *f);
    pcmup__allocator_init(&f->alloc, alloc);
    f->bytes = bytes;
    f->size = size;
    pcmup_status s;
    uint64_t n = 0;
    for (int i = LEN_BYTES - 1; i >= 0 && size >= LEN_BYTES; i--)
        n = n << 8 | bytes[i];
    if (!host_is_little_endian())
        s = pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                        "safetensors files are little-endian; this host is not");
    else if (size < LEN_BYTES)
        s = pcmup__fail(PCMUP_ERR_FORMAT, func,
                        "%zu bytes: shorter than the 8-byte header length", size);
    else if (n > PCMUP__ST_MAX_HEADER)
        s = pcmup__fail(PCMUP_ERR_FORMAT, func, "header length %llu exceeds the limit of %zu",
                        (unsigned long long)n, PCMUP__ST_MAX_HEADER);
    else if (n > size - LEN_BYTES)
        s = pcmup__fail(PCMUP_ERR_FORMAT, func,
                        "header length %llu, but only %zu bytes follow the length",
                        (unsigned long long)n, size - LEN_BYTES);
    else
        s = parse_file(f, (size_t)n, compare_crc, func);
    if (s != PCMUP_OK)
        pcmup__st_free(f);
    return s;
}

pcmup_status pcmup__st_parse(pcmup__st_file *f, unsigned char *bytes, size_t size,
                             const pcmup_allocator *alloc, const char *func)
{
    return parse(f, bytes, size, 1, alloc, func);
}

pcmup_status pcmup__st_parse_unchecked(pcmup__st_file *f, unsigned char *bytes, size_t size,
                                       const pcmup_allocator *alloc, const char *func)
{
    return parse(f, bytes, size, 0, alloc, func);
}

const pcmup__st_tensor *pcmup__st_tensor_find(const pcmup__st_file *f, const char *name)
{
    for (size_t i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *pcmup__st_meta_find(const pcmup__st_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0)
            return f->meta[i].value;
    return NULL;
}

/* ---- files --------------------------------------------------------------------- */

/* strerror is not thread-safe; _POSIX_C_SOURCE gives the XSI strerror_r. */
static const char *errno_text(int err, char *buf, size_t size)
{
    if (strerror_r(err, buf, size) != 0)
        snprintf(buf, size, "error %d", err);
    return buf;
}

static pcmup_status io_error(const char *verb, const char *path, int err, const char *func)
{
    char text[128];
    return pcmup__fail(PCMUP_ERR_IO, func, "cannot %s %s: %s", verb, path,
                       errno_text(err, text, sizeof text));
}

/* Reads exactly `size` bytes; 0 on success, else an errno value (EAGAIN
 * stands for a file that ended early). */
static int read_all(int fd, unsigned char *buf, size_t size)
{
    while (size > 0) {
        ssize_t got = read(fd, buf, size < IO_CHUNK ? size : IO_CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got < 0 ? errno : EAGAIN;
        buf += got;
        size -= (size_t)got;
    }
    return 0;
}

static pcmup_status read_fd(int fd, pcmup__st_file *f, const char *path,
                            const pcmup_allocator *alloc, const char *func)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return io_error("read", path, errno, func);
    if (!S_ISREG(st.st_mode))
        return pcmup__fail(PCMUP_ERR_IO, func, "cannot read %s: not a regular file", path);
    if (st.st_size < 0 || (uintmax_t)st.st_size > SIZE_MAX)
        return pcmup__fail(PCMUP_ERR_IO, func, "cannot read %s: %jd bytes do not fit in memory",
                           path, (intmax_t)st.st_size);
    size_t size = (size_t)st.st_size;
    pcmup_allocator a;
    pcmup__allocator_init(&a, alloc);
    unsigned char *bytes = pcmup__alloc(&a, size, 1);
    if (!bytes)
        return pcmup__fail(PCMUP_ERR_NOMEM, func, "cannot allocate %zu bytes for %s", size,
                           path);
    unsigned char extra;
    int err = read_all(fd, bytes, size);
    if (err == 0) {
        err = read_all(fd, &extra, 1); /* must find the end of the file */
        err = err == 0 ? EAGAIN : err == EAGAIN ? 0 : err;
    }
    if (err != 0) {
        pcmup__free(&a, bytes);
        if (err == EAGAIN)
            return pcmup__fail(PCMUP_ERR_IO, func,
                               "cannot read %s: its size changed while it was read", path);
        return io_error("read", path, err, func);
    }
    return pcmup__st_parse(f, bytes, size, alloc, func);
}

pcmup_status pcmup__st_read(pcmup__st_file *f, const char *path, const pcmup_allocator *alloc,
                            const char *func)
{
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error("open", path, errno, func);
    pcmup_status s = read_fd(fd, f, path, alloc, func);
    close(fd); /* read-only: nothing to lose */
    return s;
}

/* ---- the writer: the header's JSON ---------------------------------------------- */

/* Text measured (p NULL) or written: the header is built in two passes
 * of the same code, the first giving the size to allocate. */
typedef struct {
    char *p;
    size_t len;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->p)
        memcpy(t->p + t->len, s, n);
    t->len += n;
}

static void put_text(text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void put_uint(text *t, size_t v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%zu", v);
    put(t, digits, (size_t)n);
}

/* A JSON string: '"' and '\' escaped, control characters as \u00XX. */
static void put_string(text *t, const char *s)
{
    put_text(t, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(t, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(t, esc, 6);
        } else {
            put(t, s, 1);
        }
    }
    put_text(t, "\"");
}

static void put_header(text *t, const pcmup__st_tensor *tensors, size_t n_tensors,
                       const pcmup__st_meta *meta, size_t n_meta, const char *crc)
{
    put_text(t, "{\"" METADATA_KEY "\":{");
    for (size_t i = 0; i < n_meta; i++) {
        put_string(t, meta[i].key);
        put_text(t, ":");
        put_string(t, meta[i].value);
        put_text(t, ",");
    }
    put_text(t, "\"" CRC_KEY "\":");
    put_string(t, crc);
    put_text(t, "}");
    size_t offset = 0;
    for (size_t i = 0; i < n_tensors; i++) {
        size_t bytes = pcmup__st_floats(&tensors[i]) * F32_BYTES;
        put_text(t, ",");
        put_string(t, tensors[i].name);
        put_text(t, ":{\"dtype\":\"F32\",\"shape\":[");
        for (size_t d = 0; d < tensors[i].rank; d++) {
            if (d)
                put_text(t, ",");
            put_uint(t, tensors[i].shape[d]);
        }
        put_text(t, "],\"data_offsets\":[");
        put_uint(t, offset);
        put_text(t, ",");
        put_uint(t, offset + bytes);
        put_text(t, "]}");
        offset += bytes;
    }
    put_text(t, "}");
}

/* ---- the writer: checks ------------------------------------------------------------ */

static pcmup_status check_name(const char *s, const char *what, size_t i, const char *reserved,
                               const char *func)
{
    if (!s)
        return pcmup__fail(PCMUP_ERR_NULL, func, "%s %zu is NULL", what, i);
    if (s[0] == '\0')
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s %zu is empty", what, i);
    if (!utf8_valid(s))
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s %zu is not UTF-8", what, i);
    if (reserved && strcmp(s, reserved) == 0)
        return pcmup__fail(PCMUP_ERR_INVALID, func, "%s %zu is \"%s\", which is reserved", what,
                           i, reserved);
    return PCMUP_OK;
}

/* Each tensor's name, shape and data; *data_size gets the data's bytes. */
static pcmup_status check_tensors(const pcmup__st_tensor *t, size_t n, size_t *data_size,
                                  const char *func)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        PCMUP_TRY(check_name(t[i].name, "tensor name", i, METADATA_KEY, func));
        if (t[i].rank > PCMUP__ST_MAX_RANK)
            return pcmup__fail(PCMUP_ERR_INVALID, func, "tensor \"%s\": rank %zu exceeds %d",
                               t[i].name, t[i].rank, PCMUP__ST_MAX_RANK);
        int overflow = 0;
        size_t bytes = shape_bytes(t[i].shape, t[i].rank, &overflow);
        if (overflow || bytes > SIZE_MAX - total)
            return pcmup__fail(PCMUP_ERR_INVALID, func,
                               "tensor \"%s\": the data exceeds SIZE_MAX bytes", t[i].name);
        if (bytes > 0 && !t[i].data)
            return pcmup__fail(PCMUP_ERR_NULL, func, "tensor \"%s\": data is NULL", t[i].name);
        total += bytes;
    }
    *data_size = total;
    return PCMUP_OK;
}

static pcmup_status check_meta(const pcmup__st_meta *m, size_t n, const char *func)
{
    for (size_t i = 0; i < n; i++) {
        PCMUP_TRY(check_name(m[i].key, "metadata key", i, CRC_KEY, func));
        if (!m[i].value)
            return pcmup__fail(PCMUP_ERR_NULL, func, "metadata \"%s\": value is NULL",
                               m[i].key);
        if (!utf8_valid(m[i].value))
            return pcmup__fail(PCMUP_ERR_INVALID, func, "metadata \"%s\": value is not UTF-8",
                               m[i].key);
    }
    return PCMUP_OK;
}

/* No two of the n strings at base, base + stride, ... are equal. */
static pcmup_status check_distinct(const void *base, size_t stride, size_t n, const char *what,
                                   const pcmup_allocator *a, const char *func)
{
    if (n < 2)
        return PCMUP_OK;
    const char **s = pcmup__alloc(a, n, sizeof *s);
    if (!s)
        return nomem(what, n, sizeof *s, func);
    for (size_t i = 0; i < n; i++)
        memcpy(&s[i], (const char *)base + i * stride, sizeof *s);
    qsort(s, n, sizeof *s, by_string);
    pcmup_status st = PCMUP_OK;
    for (size_t i = 1; i < n && st == PCMUP_OK; i++)
        if (strcmp(s[i - 1], s[i]) == 0)
            st = pcmup__fail(PCMUP_ERR_INVALID, func, "%s \"%s\" is given twice", what, s[i]);
    pcmup__free(a, s);
    return st;
}

/* ---- the writer: the file -------------------------------------------------------- */

/* Writes all n bytes; 0 or an errno value. */
static int write_all(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t put_n = write(fd, p, n < IO_CHUNK ? n : IO_CHUNK);
        if (put_n < 0 && errno == EINTR)
            continue;
        if (put_n <= 0)
            return put_n < 0 ? errno : EIO;
        p += put_n;
        n -= (size_t)put_n;
    }
    return 0;
}

/* The length field and header, then each tensor's bytes, flushed. */
static int write_contents(int fd, const unsigned char *head, size_t head_len,
                          const pcmup__st_tensor *t, size_t n)
{
    int err = write_all(fd, head, head_len);
    for (size_t i = 0; i < n && err == 0; i++)
        err = write_all(fd, t[i].data, pcmup__st_floats(&t[i]) * F32_BYTES);
    if (err == 0 && fsync(fd) != 0)
        err = errno;
    return err;
}

/* Creates a new file "<path>.tmp-<pid>-<k>" (name in tmp, which has room)
 * and returns its descriptor, or -1 with errno set. */
static int create_temporary(const char *path, char *tmp, size_t size)
{
    for (unsigned k = 0; k < TMP_TRIES; k++) {
        snprintf(tmp, size, "%s.tmp-%ld-%u", path, (long)getpid(), k);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* After the rename: flush the directory so the new name lasts too. Best
 * effort: the file is written whatever this says. `buf` has room for
 * path. */
static void sync_directory(const char *path, char *buf)
{
    strcpy(buf, path);
    char *slash = strrchr(buf, '/');
    if (!slash)
        strcpy(buf, ".");
    else
        slash[slash == buf] = '\0'; /* "/name" -> "/", "dir/name" -> "dir" */
    int fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static pcmup_status write_file(const char *path, const unsigned char *head, size_t head_len,
                               const pcmup__st_tensor *t, size_t n, const pcmup_allocator *a,
                               const char *func)
{
    size_t size = strlen(path) + 64;
    char *tmp = pcmup__alloc(a, size, 1);
    if (!tmp)
        return nomem("a temporary file name", size, 1, func);
    int err = 0;
    int fd = create_temporary(path, tmp, size);
    if (fd < 0) {
        err = errno;
    } else {
        err = write_contents(fd, head, head_len, t, n);
        if (close(fd) != 0 && err == 0)
            err = errno;
        if (err == 0 && rename(tmp, path) != 0)
            err = errno;
        if (err != 0)
            unlink(tmp);
    }
    if (err == 0)
        sync_directory(path, tmp);
    pcmup__free(a, tmp);
    return err == 0 ? PCMUP_OK : io_error("write", path, err, func);
}

/* The length field, the header and its padding, in one block. */
static pcmup_status build_head(const pcmup__st_tensor *tensors, size_t n_tensors,
                               const pcmup__st_meta *meta, size_t n_meta, uint32_t crc,
                               const pcmup_allocator *a, unsigned char **head, size_t *head_len,
                               const char *func)
{
    char crc_text[CRC_DIGITS + 1];
    snprintf(crc_text, sizeof crc_text, "%08lx", (unsigned long)crc);
    text t = {NULL, 0};
    put_header(&t, tensors, n_tensors, meta, n_meta, crc_text);
    size_t n = t.len + (HEADER_ALIGN - (LEN_BYTES + t.len) % HEADER_ALIGN) % HEADER_ALIGN;
    if (n > PCMUP__ST_MAX_HEADER)
        return pcmup__fail(PCMUP_ERR_INVALID, func,
                           "the header would take %zu bytes, over the limit of %zu", n,
                           PCMUP__ST_MAX_HEADER);
    unsigned char *h = pcmup__alloc(a, LEN_BYTES + n, 1);
    if (!h)
        return nomem("the header", LEN_BYTES + n, 1, func);
    for (int i = 0; i < LEN_BYTES; i++)
        h[i] = (unsigned char)((uint64_t)n >> (8 * i));
    t.p = (char *)h + LEN_BYTES;
    t.len = 0;
    put_header(&t, tensors, n_tensors, meta, n_meta, crc_text);
    memset(h + LEN_BYTES + t.len, ' ', n - t.len);
    *head = h;
    *head_len = LEN_BYTES + n;
    return PCMUP_OK;
}

static uint32_t crc_of_tensors(const pcmup__st_tensor *t, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t i = 0; i < n; i++)
        crc = crc_update(crc, (const unsigned char *)t[i].data,
                         pcmup__st_floats(&t[i]) * F32_BYTES);
    return (uint32_t)crc;
}

pcmup_status pcmup__st_write(const char *path, const pcmup__st_tensor *tensors,
                             size_t n_tensors, const pcmup__st_meta *meta, size_t n_meta,
                             const pcmup_allocator *alloc, const char *func)
{
    if (!path)
        return pcmup__fail(PCMUP_ERR_NULL, func, "path is NULL");
    if (n_tensors > 0 && !tensors)
        return pcmup__fail(PCMUP_ERR_NULL, func, "tensors is NULL");
    if (n_meta > 0 && !meta)
        return pcmup__fail(PCMUP_ERR_NULL, func, "meta is NULL");
    if (!host_is_little_endian())
        return pcmup__fail(PCMUP_ERR_UNSUPPORTED, func,
                           "safetensors files are little-endian; this host is not");
    size_t data_size;
    PCMUP_TRY(check_tensors(tensors, n_tensors, &data_size, func));
    PCMUP_TRY(check_meta(meta, n_meta, func));
    pcmup_allocator a;
    pcmup__allocator_init(&a, alloc);
    PCMUP_TRY(check_distinct(tensors, sizeof *tensors, n_tensors, "tensor name", &a, func));
    PCMUP_TRY(check_distinct(meta, sizeof *meta, n_meta, "metadata key", &a, func));
    unsigned char *head = NULL;
    size_t head_len = 0;
    PCMUP_TRY(build_head(tensors, n_tensors, meta, n_meta, crc_of_tensors(tensors, n_tensors),
                         &a, &head, &head_len, func));
    pcmup_status s = write_file(path, head, head_len, tensors, n_tensors, &a, func);
    pcmup__free(&a, head);
    return s;
}
