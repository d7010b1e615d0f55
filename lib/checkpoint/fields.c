/* SPDX-License-Identifier: MIT */
/*
 * fields.c -- the names and numbers of a checkpoint (checkpoint.h).
 */
#include "checkpoint/checkpoint.h"

#include <locale.h>
#include <zlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* crc extended by text and its NUL (crc32_z takes any length). */
static uLong crc_text(uLong crc, const char *text)
{
    return crc32_z(crc, (const Bytef *)text, strlen(text) + 1);
}

uint32_t pcmup__ck_header_crc(const pcmup__st_meta *meta, size_t n_meta,
                              const pcmup__st_tensor *tensors, size_t n_tensors)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t i = 0; i < n_meta; i++) {
        if (strcmp(meta[i].key, "crc32") == 0 || strcmp(meta[i].key, "header_crc32") == 0)
            continue;
        crc = crc_text(crc_text(crc, meta[i].key), meta[i].value);
    }
    for (size_t i = 0; i < n_tensors; i++) {
        char shape[PCMUP__ST_MAX_RANK * 21 + 1] = "";
        size_t len = 0;
        for (size_t d = 0; d < tensors[i].rank; d++)
            len += (size_t)snprintf(shape + len, sizeof shape - len, "%s%zu", d ? "," : "",
                                    tensors[i].shape[d]);
        crc ^= crc_text(crc_text(crc32(0L, Z_NULL, 0), tensors[i].name), shape);
    }
    return (uint32_t)crc;
}

const pcmup__ck_param_column pcmup__ck_param_columns[PCMUP__CK_PARAM_COLUMNS] = {
    {"param.a", PCMUP_LAYER_A},
    {"param.b", PCMUP_LAYER_B},
    {"param.c", PCMUP_LAYER_C},
    {"param.sigma", PCMUP_LAYER_SIGMA},
};

const pcmup__ck_param_scalar pcmup__ck_param_scalars[PCMUP__CK_PARAM_SCALARS] = {
    {"param.base_width", PCMUP_PARAM_BASE_WIDTH},
    {"param.gamma_bar", PCMUP_PARAM_GAMMA_BAR},
    {"param.fb_damping_exp", PCMUP_PARAM_FB_DAMPING_EXP},
    {"param.fb_lr_exp", PCMUP_PARAM_FB_LR_EXP},
};

void pcmup__ck_weight_name(char *dst, const char *prefix, size_t layer)
{
    snprintf(dst, PCMUP__CK_NAME_MAX, "%slayer%zu.weight", prefix, layer);
}

void pcmup__ck_bias_name(char *dst, const char *prefix, size_t layer)
{
    snprintf(dst, PCMUP__CK_NAME_MAX, "%slayer%zu.bias", prefix, layer);
}

void pcmup__ck_rule_name(char *dst, size_t layer, const char *name)
{
    if (layer)
        snprintf(dst, PCMUP__CK_NAME_MAX, "rule.layer%zu.%s", layer, name);
    else
        snprintf(dst, PCMUP__CK_NAME_MAX, "rule.%s", name);
}

/* ---- numbers --------------------------------------------------------------
 * printf and strtod follow LC_NUMERIC, which a program embedding the
 * library may have set to a locale whose decimal point is ','. The file
 * always has '.': written numbers get it in place of the locale's point,
 * read numbers are checked against a fixed grammar first and given the
 * locale's point for strtod. */

static const char *locale_point(void)
{
    const char *point = localeconv()->decimal_point;
    return point && *point ? point : ".";
}

void pcmup__ck_format_double(char *dst, double value)
{
    char text[PCMUP__CK_NUMBER_MAX + 8];
    snprintf(text, sizeof text, "%.17g", value);
    const char *point = locale_point();
    char *at = strstr(text, point);
    size_t n = 0;
    for (const char *c = text; *c && n + 1 < PCMUP__CK_NUMBER_MAX;) {
        if (c == at) {
            dst[n++] = '.';
            c += strlen(point);
        } else {
            dst[n++] = *c++;
        }
    }
    dst[n] = '\0';
}

static size_t count_digits(const char *s)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n;
}

/* Length of a number in the grammar at s, or 0 when there is none. */
static size_t scan_double(const char *s)
{
    size_t i = s[0] == '-';
    size_t d = count_digits(s + i);
    if (d == 0)
        return 0;
    i += d;
    if (s[i] == '.') {
        d = count_digits(s + i + 1);
        if (d == 0)
            return 0;
        i += 1 + d;
    }
    if (s[i] == 'e') {
        i++;
        if (s[i] == '+' || s[i] == '-')
            i++;
        d = count_digits(s + i);
        if (d == 0)
            return 0;
        i += d;
    }
    return i;
}

static pcmup_status bad_number(const char *text, size_t len, const char *key, const char *what,
                               const char *func)
{
    return pcmup__fail(PCMUP_ERR_FORMAT, func, "metadata \"%s\": \"%.*s\" is not %s", key,
                       (int)(len > 40 ? 40 : len), text, what);
}

/* The double spelt by the first len characters of s (scanned already). */
static pcmup_status read_double(const char *s, size_t len, const char *key, double *value,
                                const char *func)
{
    char text[PCMUP__CK_NUMBER_MAX * 2];
    const char *point = locale_point();
    size_t n = 0;
    if (len >= PCMUP__CK_NUMBER_MAX)
        return bad_number(s, len, key, "a number of at most 31 characters", func);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            size_t k = strlen(point);
            if (n + k >= sizeof text)
                return bad_number(s, len, key, "a number", func);
            memcpy(text + n, point, k);
            n += k;
        } else {
            text[n++] = s[i];
        }
    }
    text[n] = '\0';
    char *end;
    double v = strtod(text, &end);
    if (*end != '\0' || !isfinite(v))
        return bad_number(s, len, key, "a finite number", func);
    *value = v;
    return PCMUP_OK;
}

pcmup_status pcmup__ck_parse_double(const char *text, const char *key, double *value,
                                    const char *func)
{
    size_t len = scan_double(text);
    if (len == 0 || text[len] != '\0')
        return bad_number(text, strlen(text), key, "a number", func);
    return read_double(text, len, key, value, func);
}

/* A decimal integer of len digits at s, at most max. */
static pcmup_status read_unsigned(const char *s, size_t len, uint64_t max, const char *key,
                                  uint64_t *value, const char *func)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return bad_number(s, len, key, "a whole number", func);
    for (size_t i = 0; i < len; i++) {
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (v > (max - digit) / 10)
            return bad_number(s, len, key, "a whole number in range", func);
        v = v * 10 + digit;
    }
    *value = v;
    return PCMUP_OK;
}

pcmup_status pcmup__ck_parse_u64(const char *text, const char *key, uint64_t *value,
                                 const char *func)
{
    size_t len = count_digits(text);
    if (text[len] != '\0')
        return bad_number(text, strlen(text), key, "a whole number", func);
    return read_unsigned(text, len, UINT64_MAX, key, value, func);
}

pcmup_status pcmup__ck_parse_size(const char *text, const char *key, size_t *value,
                                  const char *func)
{
    size_t len = count_digits(text);
    uint64_t v = 0;
    if (text[len] != '\0')
        return bad_number(text, strlen(text), key, "a whole number", func);
    PCMUP_TRY(read_unsigned(text, len, SIZE_MAX, key, &v, func));
    *value = (size_t)v;
    return PCMUP_OK;
}

size_t pcmup__ck_count_items(const char *text)
{
    if (!*text)
        return 0;
    size_t n = 1;
    for (; *text; text++)
        n += *text == ',';
    return n;
}

/* PCMUP_ERR_FORMAT unless text has `count` items. */
static pcmup_status check_count(const char *text, const char *key, size_t count,
                                const char *func)
{
    size_t n = pcmup__ck_count_items(text);
    if (n != count)
        return pcmup__fail(PCMUP_ERR_FORMAT, func,
                           "metadata \"%s\" has %zu values, expected %zu", key, n, count);
    return PCMUP_OK;
}

pcmup_status pcmup__ck_parse_doubles(const char *text, const char *key, double *values,
                                     size_t count, const char *func)
{
    PCMUP_TRY(check_count(text, key, count, func));
    const char *at = text;
    for (size_t i = 0; i < count; i++) {
        size_t len = scan_double(at);
        if (len == 0 || (at[len] != ',' && at[len] != '\0'))
            return bad_number(text, strlen(text), key, "a list of numbers", func);
        PCMUP_TRY(read_double(at, len, key, &values[i], func));
        at += len + 1;
    }
    return PCMUP_OK;
}

pcmup_status pcmup__ck_parse_sizes(const char *text, const char *key, size_t *values,
                                   size_t count, const char *func)
{
    PCMUP_TRY(check_count(text, key, count, func));
    const char *at = text;
    for (size_t i = 0; i < count; i++) {
        size_t len = count_digits(at);
        uint64_t v = 0;
        if (at[len] != ',' && at[len] != '\0')
            return bad_number(text, strlen(text), key, "a list of whole numbers", func);
        PCMUP_TRY(read_unsigned(at, len, SIZE_MAX, key, &v, func));
        values[i] = (size_t)v;
        at += len + 1;
    }
    return PCMUP_OK;
}
