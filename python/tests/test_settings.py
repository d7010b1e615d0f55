# SPDX-License-Identifier: MIT
"""Every setting of the library's table, by name, round-trips through an
algorithm of every rule that accepts it: keyword argument, attribute and
item, at its default, its closed bounds, a value inside, and each value
name of an enum-valued one; per-layer values layer by layer."""
import math

import pytest

import pcmup

SETTINGS = list(pcmup.settings().values())


def trial_values(s):
    """Values (as Python gives them back) to set: the default, the closed
    ends, a point inside, every value name."""
    if s.values:
        return list(s.values)
    vals = [s.default]
    lo = s.lo if math.isfinite(s.lo) else -1e3
    hi = s.hi if math.isfinite(s.hi) else 1e3
    if not s.lo_open and math.isfinite(s.lo):
        vals.append(s.lo)
    if not s.hi_open and math.isfinite(s.hi):
        vals.append(s.hi)
    mid = lo + (hi - lo) * 0.375
    vals.append(float(round(mid)) if s.integral else mid)
    return [s.value_of(v) for v in vals]


def make(rule, **kw):
    net = pcmup.Net.mlp([6, 8, 8, 3], param="mup_sgd", seed=1)
    return pcmup.Algo(net, rule, seed=2, **kw)


def test_table_is_the_librarys():
    assert len(SETTINGS) == pcmup._C.pcmup_setting_count() > 0
    names = [s.name for s in SETTINGS]
    assert names[:2] == ["lr", "loss"] and len(set(names)) == len(names)
    keys = [s.key for s in SETTINGS]
    assert keys == sorted(keys)
    assert pcmup.setting("loss").values == {"mse": 0.0, "ce": 1.0}
    assert pcmup.setting("pc_kappa").per_layer and not pcmup.setting("lr").per_layer
    assert pcmup.setting("gnt_power").rules == (pcmup.Rule.GNT,)
    with pytest.raises(KeyError, match="no setting 'learning_rate'"):
        pcmup.setting("learning_rate")


@pytest.mark.parametrize("s", SETTINGS, ids=lambda s: s.name)
def test_setting_round_trips(s):
    assert s.rules, s.name
    for rule in s.rules:
        algo = make(rule)
        assert getattr(algo, s.name) == s.value_of(s.default)     # the library's default
        for v in trial_values(s):
            setattr(algo, s.name, v)
            assert getattr(algo, s.name) == v, (rule, v)
            assert algo[s.name] == v and algo.get(s.name) == v
            algo[s.name] = s.default
            assert algo[s.name] == s.value_of(s.default)
        v = trial_values(s)[-1]
        assert make(rule, **{s.name: v})[s.name] == v            # keyword argument


@pytest.mark.parametrize("s", [s for s in SETTINGS if s.per_layer], ids=lambda s: s.name)
def test_per_layer_values(s):
    algo = make(s.rules[0])
    lo = s.lo if not s.lo_open else s.lo + 0.25
    values = [lo + 0.5, lo + 0.75]
    algo[s.name] = values                              # one value per hidden layer
    assert algo.layer_values(s.name) == values
    algo.set_layer(s.name, 2, lo + 0.125)
    assert algo.get_layer(s.name, 2) == lo + 0.125 and algo.get_layer(s.name, 1) == values[0]
    with pytest.raises(pcmup.ShapeError, match="expected 2"):
        algo[s.name] = [lo + 0.5] * 3
    with pytest.raises(pcmup.InvalidError):
        algo.set_layer(s.name, 3, lo + 0.5)            # the output layer has none


@pytest.mark.parametrize("s", [s for s in SETTINGS if math.isfinite(s.hi)],
                         ids=lambda s: s.name)
def test_out_of_bounds_is_invalid(s):
    algo = make(s.rules[0])
    with pytest.raises(pcmup.InvalidError, match=s.name):
        algo[s.name] = s.hi + 1
    assert algo[s.name] == s.value_of(s.default)       # unchanged


def test_unaccepted_setting_is_unsupported():
    bp = make("bp")
    with pytest.raises(pcmup.UnsupportedError, match="PCMUP_ERR_UNSUPPORTED"):
        bp.pc_kappa = 0.5
    assert "pc_kappa" not in bp.settings() and "lr" in bp.settings()


def test_bad_names_and_values():
    bp = make("bp")
    with pytest.raises(pcmup.InvalidError, match="'hinge' is not one of mse, ce"):
        bp.loss = "hinge"
    with pytest.raises(AttributeError, match="learning_rate"):
        bp.learning_rate
    with pytest.raises(KeyError):
        bp["learning_rate"] = 1
    with pytest.raises(pcmup.InvalidError):
        bp.lr = float("nan")
    with pytest.raises(KeyError):
        make("bp", learning_rate=0.1)
    bp.loss = 1                                        # a number names the value too
    assert bp.loss == "ce"


def test_no_setting_hides_a_method():
    """Settings are attributes: none may share a name with Algo's own."""
    own = {n for n in dir(pcmup.Algo) if not n.startswith("__")}
    assert not own & set(pcmup.settings())


def test_setting_names_are_unknown_to_other_objects(small_net):
    with pytest.raises(AttributeError):
        small_net.lr
