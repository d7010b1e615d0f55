# SPDX-License-Identifier: MIT
"""The enums restated in Python (_enums.py) against include/pcmup.h: every
member of each mirrored C enum, with its value, and nothing more or less."""
import re

import pytest

import pcmup
from pcmup import _enums

# Python enum -> the C enum's typedef name and constant prefix.
MIRRORS = {
    _enums.Preset: ("pcmup_preset", "PCMUP_PRESET_"),
    _enums.LayerKey: ("pcmup_layer_key", "PCMUP_LAYER_"),
    _enums.ParamKey: ("pcmup_param_key", "PCMUP_PARAM_"),
    _enums.Factor: ("pcmup_factor", "PCMUP_FACTOR_"),
    _enums.Activation: ("pcmup_activation", "PCMUP_ACT_"),
    _enums.Pool: ("pcmup_pool", "PCMUP_POOL_"),
    _enums.Split: ("pcmup_split", "PCMUP_SPLIT_"),
    _enums.Signal: ("pcmup_signal", "PCMUP_SIGNAL_"),
    _enums.Rule: ("pcmup_rule", "PCMUP_RULE_"),
    _enums.Reference: ("pcmup_reference", "PCMUP_REFERENCE_"),
}


def c_enum(text, typedef):
    """{NAME: value} of `typedef enum { ... } typedef;` in the header."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # comments may hold braces
    m = re.search(r"typedef enum \{([^}]*)\}\s*" + typedef + r";", text)
    assert m, f"{typedef} not found in pcmup.h"
    body = m.group(1)
    return {name: int(value) for name, value in
            re.findall(r"(PCMUP_\w+)\s*=\s*(\d+)", body)}


@pytest.mark.parametrize("cls", list(MIRRORS), ids=lambda c: c.__name__)
def test_enum_matches_header(cls, header_text):
    typedef, prefix = MIRRORS[cls]
    c = {k[len(prefix):]: v for k, v in c_enum(header_text, typedef).items()}
    assert c, typedef
    assert {m.name: int(m) for m in cls} == c


@pytest.mark.parametrize("macro,value", [("PCMUP_NET_BIAS", _enums.NET_BIAS),
                                         ("PCMUP_LAYER_PER_WIDTH", _enums.LAYER_PER_WIDTH),
                                         ("PCMUP_FACTOR_COUNT", _enums.FACTOR_COUNT)])
def test_macros_match_header(macro, value, header_text):
    m = re.search(r"#define " + macro + r"\s+(\d+)u?", header_text)
    assert m and int(m.group(1)) == value


def test_fashion_dir_matches_header(header_text):
    m = re.search(r'#define PCMUP_FASHION_MNIST_DIR\s+"([^"]+)"', header_text)
    assert m and m.group(1) == _enums.FASHION_MNIST_DIR


def test_status_classes_match_header_and_library(header_text):
    """One exception class per status: the header's pcmup_status, the
    library's names for them, and the package's classes agree."""
    statuses = c_enum(header_text, "pcmup_status")
    assert statuses.pop("PCMUP_OK") == 0
    assert set(statuses) == set(pcmup._errors.CLASS_OF_NAME)
    for name, value in statuses.items():
        assert pcmup.status_name(value) == name
        err = pcmup._errors.error_for(value, "message")
        assert type(err) is pcmup._errors.CLASS_OF_NAME[name]
        assert err.status == value and err.status_name == name
    classes = list(pcmup._errors.CLASS_OF_NAME.values())
    assert len(set(classes)) == len(classes)
    assert pcmup.status_name(len(statuses) + 1) == "PCMUP_ERR_UNKNOWN"


def test_coerce_names():
    assert _enums.coerce(pcmup.Preset, "mup-sgd") is pcmup.Preset.MUP_SGD
    assert _enums.coerce(pcmup.Rule, "PC") is pcmup.Rule.PC
    assert _enums.coerce(pcmup.Rule, 3) is pcmup.Rule.TP
    with pytest.raises(ValueError, match="one of: bp, pc, gnt, tp, dtp"):
        _enums.coerce(pcmup.Rule, "sgd")
