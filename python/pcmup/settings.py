# SPDX-License-Identifier: MIT
"""The library's settings table (pcmup_setting_*), read once from the
library: names, descriptions, groups, defaults, bounds, per-layer flags,
the rules that accept each, and the value names of the enum-valued ones.
Nothing here restates a setting; a newer library's settings appear as they
are."""
import ctypes
import math

from ._enums import Rule
from ._errors import check, error_for
from ._lib import C, c_double, c_int, decode


class Setting:
    """One row of the table. `values` maps the names of an enum-valued
    setting's values to their numbers ({} for other settings)."""

    __slots__ = ("key", "name", "description", "group", "default", "lo", "hi", "lo_open",
                 "hi_open", "integral", "per_layer", "rules", "values")

    def __repr__(self):
        return (f"Setting({self.name!r}, key={self.key}, default={self.value_of(self.default)!r},"
                f" per_layer={self.per_layer})")

    @property
    def enum_valued(self):
        return bool(self.values)

    def number(self, value):
        """A Python value (a value name, a bool or a number) as the double the
        library takes."""
        if isinstance(value, str):
            v = c_double()
            status = C.pcmup_setting_value_find(self.key, value.encode(), ctypes.byref(v))
            if status != 0:
                raise error_for(status, f"setting {self.name}: {value!r} is not one of "
                                        f"{', '.join(self.values) or 'its values'}")
            return v.value
        return float(value)

    def value_of(self, number):
        """The library's double as Python: a value name for an enum-valued
        setting, an int for a whole-number one, else a float."""
        for name, n in self.values.items():
            if n == number:
                return name
        if self.integral and math.isfinite(number):
            return int(number)
        return number

    def accepts(self, rule):
        return Rule(rule) in self.rules


def _read(key):
    s = Setting()
    s.key = key
    text = ctypes.c_char_p()
    check(C.pcmup_setting_name(key, ctypes.byref(text)))
    s.name = decode(text.value)
    check(C.pcmup_setting_description(key, ctypes.byref(text)))
    s.description = decode(text.value)
    g, flag, d = c_int(), c_int(), c_double()
    check(C.pcmup_setting_group_of(key, ctypes.byref(g)))
    s.group = g.value
    check(C.pcmup_setting_default(key, ctypes.byref(d)))
    s.default = d.value
    check(C.pcmup_setting_per_layer(key, ctypes.byref(flag)))
    s.per_layer = bool(flag.value)
    b = C.pcmup_setting_bounds(key)
    check(b.status)
    s.lo, s.hi, s.lo_open, s.hi_open, s.integral = (b.lo, b.hi, bool(b.lo_open),
                                                    bool(b.hi_open), bool(b.integral))
    rules = []
    for r in Rule:
        check(C.pcmup_setting_accepts(key, r, ctypes.byref(flag)))
        if flag.value:
            rules.append(r)
    s.rules = tuple(rules)
    s.values = {}
    if s.integral and math.isfinite(s.lo) and math.isfinite(s.hi) and s.hi - s.lo < 4096:
        for v in range(int(math.ceil(s.lo)), int(math.floor(s.hi)) + 1):
            if C.pcmup_setting_value_name(key, float(v), ctypes.byref(text)) == 0:
                s.values[decode(text.value)] = float(v)
    return s


def _table():
    out = {}
    for i in range(C.pcmup_setting_count()):
        key = c_int()
        check(C.pcmup_setting_at(i, ctypes.byref(key)))
        s = _read(key.value)
        out[s.name] = s
    return out


SETTINGS = _table()


def settings():
    """Every setting, in key order: {name: Setting}."""
    return dict(SETTINGS)


def setting(name):
    """The Setting called `name` (KeyError, with the known names, if none)."""
    try:
        return SETTINGS[name]
    except KeyError:
        raise KeyError(f"no setting {name!r}; settings: {', '.join(SETTINGS)}") from None
