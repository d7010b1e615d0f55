#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the hand-made seeds of corpus/<target>/ (seed-*; files the
fuzzers found are named by their SHA-1, as libFuzzer names them).

    python3 tests/fuzz/make_seeds.py        # from the repository root

Rerunning rewrites the same bytes (gzip headers carry no time stamp)."""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def idx(dims, data, typ=8):
    return bytes([0, 0, typ, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


def gz(data):
    return gzip.compress(data, mtime=0)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


PIX = bytes([0, 255, 17, 128, 1, 2, 3, 4, 250, 251, 252, 253])
images = idx([3, 2, 2], PIX)
labels = idx([3], bytes([0, 2, 1]))

# fuzz_idx: raw files, plain and gzip, valid and broken.
idx_seeds = {
    "images": images,
    "labels": labels,
    "images-4d": idx([3, 1, 2, 2], PIX),
    "images-1d": idx([12], PIX),
    "images.gz": gz(images),
    "labels.gz": gz(labels),
    "members.gz": gz(images[:7]) + gz(images[7:]),
    "empty-member.gz": gz(images) + gz(b""),
    "junk.gz": gz(images) + b"JUNK",
    "zero-pad.gz": gz(labels) + b"\0" * 8,
    "truncated": images[:-1],
    "truncated.gz": gz(images)[:-5],
    "trailing": images + b"\x07",
    "header-only": idx([3, 2, 2], b""),
    "huge-count": idx([0xFFFFFFFF, 28, 28], PIX),
    "dims-overflow": idx([3, 65536, 65536, 1], PIX),
    "type-float": idx([3, 2, 2], PIX, typ=0x0D),
    "empty": b"",
}
for name, data in idx_seeds.items():
    write("idx", name, data)

# fuzz_idx_gzip: mode byte, parameter byte, payload.
gzip_seeds = {
    "one-member": bytes([0, 0]) + images,
    "labels-one-member": bytes([0, 0]) + labels,
    "two-members": bytes([1, 100]) + images,
    "two-members-at-end": bytes([1, 255]) + labels,
    "junk": bytes([2, ord("J")]) + images,
    "zero-junk": bytes([2, 0]) + labels,
    "raw-stream": bytes([3, 0]) + gz(images),
    "raw-members": bytes([3, 0]) + gz(labels[:5]) + gz(labels[5:]),
    "raw-deflate": bytes([3, 0]) + gz(images)[2:],
    "truncated-payload": bytes([0, 0]) + images[:-2],
}
for name, data in gzip_seeds.items():
    write("idx_gzip", name, data)

# fuzz_jsonl: lines like the tools' files, and lines they refuse.
jsonl_seeds = {
    "train": b'{"epoch":1,"train_loss":0.5123,"test_loss":0.49,"test_acc":0.8312,"seconds":2.5}',
    "sweep": b'{"algo":"pc","param":"mup","width":256,"lr":0.05,"seed":3,"diverged":false,"loss":null}',
    "escapes": b'{"s":"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t","u":"\\u00e9\\u20ac\\u0041\\u0000x"}',
    "numbers": b'{"a":-0,"b":1e-320,"c":1.7976931348623157e308,"d":-2.5E+3,"e":0.1,"f":9007199254740993}',
    "blanks": b' \t{ "k" : true , "k" : "dup" }\r\n ',
    "empty-object": b"{}",
    "nested": b'{"a":[1,2]}',
    "unterminated": b'{"a":"abc',
    "bad-escape": b'{"a":"\\q"}',
    "bad-unicode": b'{"a":"\\u12"}',
    "inf": b'{"a":1e999}',
    "trailing": b'{"a":1} x',
    "hex-number": b'{"a":0x1p3}',
    "control": b'{"a":"\x01\x1f\x7f\xff"}',
}
for name, data in jsonl_seeds.items():
    write("jsonl", name, data)

# fuzz_netdesc: descriptions, valid, presets, and one of each error.
netdesc_seeds = {
    "simplecnn": b"simplecnn",
    "vgg5": b"vgg5",
    "written-simplecnn": b"conv5p2:M tanh maxpool2 conv5p2:2M tanh maxpool2 dense:10",
    "cnn-case": b"conv3p1:4 tanh maxpool2 conv3p1:8 tanh maxpool2 dense:3",
    "every-token": b"  conv3p1s2:2M relu avgpool2 conv5p0:7 identity maxpool2 dense:M tanh dense:10 ",
    "mlp": b"dense:M dense:M dense:10",
    "leading-zeros": b"conv03p01s1:1M dense:010",
    "largest-numbers": b"conv2147483647p2147483647s2147483647:2147483647M dense:2147483647",
    "empty": b"",
    "unknown": b"conv3p1:4 tanh dense:3 maxpool3",
    "kernel-zero": b"conv0p1:4 dense:3",
    "stride-zero": b"conv3p1s0:4 dense:3",
    "no-pad-number": b"conv3p dense:3",
    "overflow": b"conv3p1:4 dense:99999999999999999999999",
    "dense-no-channels": b"dense:",
    "zero-m": b"dense:0M",
    "act-first": b"tanh dense:3",
    "act-twice": b"dense:3 relu tanh",
    "pool-after-dense": b"dense:8 avgpool2 dense:3",
    "pool-twice": b"conv3p1:4 maxpool2 avgpool2 dense:3",
    "conv-after-dense": b"dense:8 conv3p1:4 dense:3",
    "no-output": b"conv3p1:4 tanh maxpool2",
    "preset-not-alone": b"simplecnn dense:10",
    "odd-pool": b"conv3p0:4 maxpool2 dense:3",
    "nul-inside": b"dense:3\0conv3p1:4",
}
for name, data in netdesc_seeds.items():
    write("netdesc", name, data)

# fuzz_cifar: CIFAR-10 batches (3073-byte records: a label, 3 x 32 x 32
# bytes), valid and broken. The target also loads each input cut in two.
def cifar_record(label, seed):
    return bytes([label]) + bytes((seed * 37 + j * 13 + j // 1024 * 71) % 256 for j in range(3072))


RECORDS = [cifar_record(k % 10, k) for k in range(4)]
cifar_seeds = {
    "one-record": RECORDS[0],
    "two-records": RECORDS[0] + RECORDS[1],
    "four-records": b"".join(RECORDS),
    "label-9": cifar_record(9, 5),
    "label-10": cifar_record(10, 6),
    "label-255-second": RECORDS[0] + cifar_record(255, 7),
    "bad-label-second-half": RECORDS[0] + RECORDS[1] + RECORDS[2] + cifar_record(10, 8),
    "truncated": (RECORDS[0] + RECORDS[1])[:-1],
    "one-extra-byte": RECORDS[0] + b"\x00",
    "label-only": b"\x03",
    "empty": b"",
}
for name, data in cifar_seeds.items():
    write("cifar", name, data)

# fuzz_safetensors: whole files (8-byte length, JSON header, data), valid
# and broken; st() pads the header with spaces to a multiple of 8 unless
# told otherwise, and adds the data's crc32 when crc is set.
def st(header, data=b"", pad=True):
    h = header.encode() if isinstance(header, str) else header
    if pad:
        h += b" " * (-(8 + len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + data


def tensor(name, shape, begin, end, dtype="F32"):
    return '"%s":{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}' % (
        name, dtype, str(shape).replace(" ", ""), begin, end)


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def with_crc(body, data):
    return '{"__metadata__":{"format":"pt","crc32":"%08x"},%s}' % (zlib.crc32(data), body)


ST_DATA = f32(1.0, -2.0, 0.5, 3.25, 7.0, -0.0)
ST_BODY = ",".join([tensor("w", [2, 2], 0, 16), tensor("b", [2], 16, 24),
                    tensor("empty", [0, 3], 24, 24)])
safetensors_seeds = {
    "valid": st(with_crc(ST_BODY, ST_DATA), ST_DATA),
    "valid-no-meta": st("{%s}" % ST_BODY, ST_DATA),
    "scalar": st("{%s}" % tensor("s", [], 0, 4), f32(1.5)),
    "rank-4": st("{%s}" % tensor("conv", [1, 2, 1, 3], 0, 24), ST_DATA),
    "rank-8": st("{%s}" % tensor("r", [1] * 8, 0, 4), f32(2.0)),
    "unaligned": st("{%s}" % tensor("s", [1], 0, 4), f32(1.0), pad=False),
    "empty-object": st("{}"),
    "blanks-and-order": st('{ "b" :\t{"shape": [2], "data_offsets": [0, 8], "dtype": "F32"}'
                           ' ,\r\n"__metadata__" : { } }', f32(1.0, 2.0)),
    "escapes": st('{"__metadata__":{"n\\u00e9\\ud83d\\ude00":"a\\"\\\\\\/\\b\\f\\n\\r\\t"},'
                  '"\\u00e9\\u20ac":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
                  f32(4.0)),
    "utf8": st('{"\u00e9\u20ac\U0001F600":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
               f32(4.0)),
    "bad-crc": st(with_crc(ST_BODY, ST_DATA), ST_DATA[:-1] + b"\x01"),
    "bad-crc-format": st('{"__metadata__":{"crc32":"ABCDEF01"}}'),
    "dtype-f16": st("{%s}" % tensor("h", [2], 0, 4, "F16"), f32(1.0)),
    "overlap": st("{%s,%s}" % (tensor("a", [2], 0, 8), tensor("b", [2], 4, 12)), ST_DATA[:12]),
    "hole": st("{%s,%s}" % (tensor("a", [1], 0, 4), tensor("b", [1], 8, 12)), ST_DATA[:12]),
    "end-before-begin": st("{%s}" % tensor("a", [1], 8, 4), ST_DATA[:8]),
    "shape-mismatch": st("{%s}" % tensor("a", [3], 0, 8), ST_DATA[:8]),
    "shape-overflow": st("{%s}" % tensor("a", [4294967296, 4294967296, 0], 0, 0)),
    "duplicate-name": st("{%s,%s}" % (tensor("a", [1], 0, 4), tensor("a", [1], 4, 8)),
                         ST_DATA[:8]),
    "duplicate-meta": st('{"__metadata__":{"k":"1","k":"2"}}'),
    "meta-number": st('{"__metadata__":{"k":1}}'),
    "nul-escape": st('{"a\\u0000":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32(1.0)),
    "lone-surrogate": st('{"\\udc00":{}}'),
    "overlong-utf8": st(b'{"\xc0\xaf":{}}'),
    "length-too-big": struct.pack("<Q", 1 << 40) + b"{}",
    "not-object": st("[]"),
    "trailing-newline": st("{}\n", pad=False),
    "short": b"\x02\x00\x00",
}
for name, data in safetensors_seeds.items():
    write("safetensors", name, data)
