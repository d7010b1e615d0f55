/* SPDX-License-Identifier: MIT */
/*
 * checkpoint.h -- what the checkpoint files share: the handle of an opened
 * checkpoint, the names of its tensors and metadata keys, and how numbers
 * are spelt in its metadata.
 *
 *   safetensors.c  the file format (safetensors.h)
 *   fields.c       names and numbers (this header)
 *   save.c         pcmup_net_save, pcmup_algo_save
 *   load.c         pcmup_checkpoint_open and everything that reads one
 *
 * docs/checkpoints.md lists every key; the metadata is a map of strings,
 * so every number is written as text: integers in decimal, doubles with 17
 * significant digits (which read back to the same double) and always
 * with '.' as the decimal point, whatever the process's locale.
 */
#ifndef PCMUP_CHECKPOINT_H
#define PCMUP_CHECKPOINT_H

#include "checkpoint/safetensors.h"
#include "internal.h"

/* The value of the "format" key. */
#define PCMUP__CK_FORMAT "libpcmup-checkpoint"

struct pcmup_checkpoint {
    pcmup_allocator alloc;
    pcmup__st_file file;
    int has_algo;       /* "contents" is "algo" (else "net") */
};

/* pcmup_checkpoint_open on `size` bytes in memory, which the checkpoint
 * takes over (freed with it through `allocator`, also on failure), for
 * the fuzz target (tests/fuzz/fuzz_checkpoint.c): the same checks, except
 * that with compare_crcs 0 neither CRC is compared (both must still be
 * present and well-formed), so that mutated inputs reach the loads. */
pcmup_status pcmup__checkpoint_open_mem(pcmup_checkpoint **out, unsigned char *bytes,
                                        size_t size, int compare_crcs,
                                        const pcmup_allocator *allocator, const char *func);

/* A CRC-32 (zlib's) of what the header says, written as "header_crc32"
 * so that a changed header byte, which the data's CRC-32 ("crc32") does
 * not cover, is found too: the CRC of every metadata entry's key and
 * value, each followed by a NUL byte, in order, leaving out "crc32" and
 * "header_crc32"; XORed with, for each tensor, the CRC of its name and a
 * NUL, then its shape in decimal joined by ',' and a NUL (a scalar's
 * empty). The offsets follow from the shapes, as the tensors tile the
 * data in order. The XOR makes the tensors' order irrelevant. */
uint32_t pcmup__ck_header_crc(const pcmup__st_meta *meta, size_t n_meta,
                              const pcmup__st_tensor *tensors, size_t n_tensors);

/* ---- names ----------------------------------------------------------------- */

/* Room for any tensor name or metadata key the library writes. */
#define PCMUP__CK_NAME_MAX 96

/* The names of layer l's tensors: "<prefix>layer<l>.weight" and
 * "<prefix>layer<l>.bias", prefix "" for the weights and "momentum." for
 * the velocity. */
void pcmup__ck_weight_name(char *dst, const char *prefix, size_t layer);
void pcmup__ck_bias_name(char *dst, const char *prefix, size_t layer);

/* The name of a rule's persistent entry: "rule.layer<l>.<name>", or
 * "rule.<name>" for an entry of the whole rule (layer 0). Tensors are
 * tensors of that name, scalars metadata values. */
void pcmup__ck_rule_name(char *dst, size_t layer, const char *name);

/* The parameterization's values as metadata keys: its per-layer
 * exponents and scales ("param.a" ...; a list of L values each) and its
 * scalars ("param.base_width" ...). "param.theta", 2a + c, is written
 * besides for readers and not read back. */
typedef struct {
    const char *key;
    pcmup_layer_key layer_key;
} pcmup__ck_param_column;

typedef struct {
    const char *key;
    pcmup_param_key param_key;
} pcmup__ck_param_scalar;

#define PCMUP__CK_PARAM_COLUMNS 4
#define PCMUP__CK_PARAM_SCALARS 4
extern const pcmup__ck_param_column pcmup__ck_param_columns[PCMUP__CK_PARAM_COLUMNS];
extern const pcmup__ck_param_scalar pcmup__ck_param_scalars[PCMUP__CK_PARAM_SCALARS];

/* ---- numbers ----------------------------------------------------------------- */

/* Room for one number as written. */
#define PCMUP__CK_NUMBER_MAX 32

/* A finite double with 17 significant digits and '.' as its point. */
void pcmup__ck_format_double(char *dst, double value);

/* Strict readers: the whole text is one number of that kind, else
 * PCMUP_ERR_FORMAT naming `key` and the text. Doubles must be finite and
 * spelt as pcmup__ck_format_double spells them ([-]digits[.digits]
 * [e[+-]digits]); integers are decimal digits without sign. */
pcmup_status pcmup__ck_parse_double(const char *text, const char *key, double *value,
                                    const char *func);
pcmup_status pcmup__ck_parse_u64(const char *text, const char *key, uint64_t *value,
                                 const char *func);
pcmup_status pcmup__ck_parse_size(const char *text, const char *key, size_t *value,
                                  const char *func);

/* A list of exactly `count` numbers separated by ',' (count 0: ""). */
pcmup_status pcmup__ck_parse_doubles(const char *text, const char *key, double *values,
                                     size_t count, const char *func);
pcmup_status pcmup__ck_parse_sizes(const char *text, const char *key, size_t *values,
                                   size_t count, const char *func);

/* The number of comma-separated items in text (1 + its commas; 0 for ""). */
size_t pcmup__ck_count_items(const char *text);

#endif
