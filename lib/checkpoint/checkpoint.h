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
 * takes over (freed with it through `allocator`, also on failure): the
 * same checks, for the fuzz target (tests/fuzz/fuzz_checkpoint.c). */
pcmup_status pcmup__checkpoint_open_mem(pcmup_checkpoint **out, unsigned char *bytes,
                                        size_t size, const pcmup_allocator *allocator,
                                        const char *func);

/* The CRC-32 (zlib's) of the metadata: every entry's key and value, each
 * followed by a NUL byte, in order, leaving out the keys "crc32" (the
 * data's, which the safetensors layer checks) and "metadata_crc32" (this
 * one's). Written as "metadata_crc32", so that a changed metadata byte,
 * which the data's CRC does not cover, is found too. */
uint32_t pcmup__ck_metadata_crc(const pcmup__st_meta *meta, size_t n);

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
