# SPDX-License-Identifier: MIT
"""The enums of pcmup.h that the library has no name table for.

The library names its statuses and its settings' values itself (the
settings table); these enums it does not, so they are restated here, and
tests/test_enums.py checks every member against include/pcmup.h so the two
cannot drift. Wherever one is an argument, its member, its number or its
name as a string ("mup_sgd", "mup-sgd", "MUP_SGD") is accepted.
"""
import enum


class Preset(enum.IntEnum):
    SP = 0
    MUP_SGD = 1
    MUP_PC = 2
    MUP_PC_B = 3
    MUP_GNT = 4
    MUP_TP = 5


class LayerKey(enum.IntEnum):
    A = 0
    B = 1
    C = 2
    SIGMA = 3
    THETA = 4


class ParamKey(enum.IntEnum):
    BASE_WIDTH = 0
    GAMMA_BAR = 1
    FB_DAMPING_EXP = 2
    FB_LR_EXP = 3


class Factor(enum.IntEnum):
    MULTIPLIER = 0
    INIT_STD = 1
    LR = 2
    PC_GAMMA = 3
    GNT_DAMPING = 4
    TP_FB_DAMPING = 5
    TP_FB_LR = 6
    WIDTH_RATIO = 7


class Activation(enum.IntEnum):
    TANH = 0
    RELU = 1
    IDENTITY = 2


class Pool(enum.IntEnum):
    MAX2 = 1
    AVG2 = 2


class Split(enum.IntEnum):
    TRAIN = 0
    TEST = 1


class Signal(enum.IntEnum):
    PRE = 0
    POST = 1


class Rule(enum.IntEnum):
    BP = 0
    PC = 1
    GNT = 2
    TP = 3
    DTP = 4


class Reference(enum.IntEnum):
    BP = 0
    GN = 1


# #define values of pcmup.h the package uses (checked by the same test).
NET_BIAS = 1
LAYER_PER_WIDTH = 1
FACTOR_COUNT = 8
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


def coerce(cls, value):
    """`value` (a member, a number or a name) as a member of `cls`."""
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        key = value.strip().upper().replace("-", "_")
        if key in cls.__members__:
            return cls.__members__[key]
        names = ", ".join(m.lower() for m in cls.__members__)
        raise ValueError(f"unknown {cls.__name__.lower()} {value!r}; one of: {names}")
    try:
        return cls(int(value))
    except (ValueError, TypeError):
        raise ValueError(f"{value!r} is not a {cls.__name__}") from None
