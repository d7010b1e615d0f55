# SPDX-License-Identifier: MIT
"""Loading libpcmup and declaring the C functions the package calls.

The library is found, in this order:
  1. $PCMUP_LIBRARY, a path to the shared library (a build tree's
     build/libpcmup.so, for development);
  2. the library of the prefix this package was installed into by
     `cmake --install` (_install_paths.py, written at install time, gives
     the installed library directory relative to this file);
  3. the system loader's search for the SONAME, libpcmup.so.1
     (LD_LIBRARY_PATH, ld.so.cache).
Before it is loaded, the file's SONAME (read from its ELF dynamic section)
must be the one this package was written for: a library of another ABI is
refused with a message saying which it is.

Every function is reached through the namespace `C` at call time
(C.pcmup_net_forward(...)), so a test can put a recording wrapper in front
of one.
"""
import ctypes
import os
import struct
from ctypes import (POINTER, c_char_p, c_double, c_int, c_size_t, c_uint,
                    c_uint64, c_void_p)

SONAME = "libpcmup.so.1"
# The oldest library version that has every function declared below
# (section 10, checkpoints, arrived in 0.2.0).
MIN_VERSION = 200

c_float_p = POINTER(ctypes.c_float)
c_int32_p = POINTER(ctypes.c_int32)
c_double_p = POINTER(c_double)
c_size_p = POINTER(c_size_t)
c_void_pp = POINTER(c_void_p)
c_char_pp = POINTER(c_char_p)
c_float_pp = POINTER(c_float_p)


class LibraryError(ImportError):
    """libpcmup could not be found, or is not a library this package can use."""


def elf_soname(path):
    """The DT_SONAME of the ELF shared object at `path` (None if it has none).
    Reads the section headers, the SHT_DYNAMIC section and the string table
    it links to: a few hundred bytes of the file, nothing is executed."""
    with open(path, "rb") as f:
        ident = f.read(16)
        if ident[:4] != b"\x7fELF":
            raise LibraryError(f"{path}: not an ELF shared object")
        is64, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
        f.seek(0)
        head = f.read(64)
        if is64:
            shoff, = struct.unpack_from(order + "Q", head, 0x28)
            shentsize, shnum = struct.unpack_from(order + "HH", head, 0x3A)
            sh_fmt, dyn_fmt = order + "IIQQQQIIQQ", order + "qQ"
        else:
            shoff, = struct.unpack_from(order + "I", head, 0x20)
            shentsize, shnum = struct.unpack_from(order + "HH", head, 0x2E)
            sh_fmt, dyn_fmt = order + "IIIIIIIIII", order + "iI"
        f.seek(shoff)
        table = f.read(shentsize * shnum)
        sections = [struct.unpack_from(sh_fmt, table, i * shentsize) for i in range(shnum)]
        for sec in sections:
            if sec[1] != 6:  # SHT_DYNAMIC
                continue
            f.seek(sec[4])
            dyn = f.read(sec[5])
            strtab = sections[sec[6]]
            step = struct.calcsize(dyn_fmt)
            for off in range(0, len(dyn) - step + 1, step):
                tag, val = struct.unpack_from(dyn_fmt, dyn, off)
                if tag == 0:
                    break
                if tag == 14:  # DT_SONAME
                    f.seek(strtab[4] + val)
                    return f.read(256).split(b"\0", 1)[0].decode()
    return None


def _check_soname(path):
    soname = elf_soname(path)
    if soname != SONAME:
        raise LibraryError(
            f"{path} is {soname or 'a library without a SONAME'}, not {SONAME}: this "
            f"pcmup package needs libpcmup of ABI 1 ({SONAME}); install that "
            f"release, or point PCMUP_LIBRARY at one")


def _installed_library():
    """The prefix's library, if this package was installed by cmake --install."""
    try:
        from . import _install_paths
    except ImportError:
        return None
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.normpath(os.path.join(here, _install_paths.LIBDIR, SONAME))
    return path if os.path.exists(path) else None


def _find_on_loader_path():
    """The path the system loader would open for SONAME, or None."""
    try:
        lib = ctypes.CDLL(SONAME)
    except OSError:
        return None
    # dlinfo is not in ctypes; /proc/self/maps names the file just mapped.
    with open("/proc/self/maps") as maps:
        for line in maps:
            p = line.split(None, 5)[-1].strip()
            if os.path.basename(p).startswith("libpcmup.so") and os.path.exists(p):
                del lib
                return p
    return None


def library_path():
    env = os.environ.get("PCMUP_LIBRARY")
    if env:
        if not os.path.exists(env):
            raise LibraryError(f"PCMUP_LIBRARY={env}: no such file")
        return env
    path = _installed_library() or _find_on_loader_path()
    if path is None:
        raise LibraryError(
            f"cannot find {SONAME}: install libpcmup (cmake --install), add its "
            f"directory to LD_LIBRARY_PATH, or set PCMUP_LIBRARY to the library's path")
    return path


class Bounds(ctypes.Structure):
    """pcmup_bounds, returned by value."""
    _fields_ = [("status", c_int), ("lo", c_double), ("hi", c_double), ("lo_open", c_int),
                ("hi_open", c_int), ("integral", c_int)]


class _Namespace:
    """Holds the declared functions as attributes (replaceable by tests)."""


S = c_int  # pcmup_status

# name: (restype, argtypes). Every exported function of pcmup.h.
_SIGNATURES = {
    # 1. Basics
    "pcmup_version_string": (c_char_p, []),
    "pcmup_version_number": (c_uint, []),
    "pcmup_status_name": (c_char_p, [c_int]),
    "pcmup_status_message": (c_char_p, [c_int]),
    "pcmup_last_error": (c_char_p, []),
    "pcmup_set_blas_threads": (S, [c_int]),
    # 2. Parameterizations
    "pcmup_param_create": (S, [c_void_pp, c_size_t, c_int, c_void_p]),
    "pcmup_param_clone": (S, [c_void_pp, c_void_p]),
    "pcmup_param_free": (None, [c_void_p]),
    "pcmup_param_apply_preset": (S, [c_void_p, c_int, c_double, c_double]),
    "pcmup_param_n_layers": (S, [c_void_p, c_size_p]),
    "pcmup_param_set_layer": (S, [c_void_p, c_size_t, c_int, c_double]),
    "pcmup_param_get_layer": (S, [c_void_p, c_size_t, c_int, c_double_p]),
    "pcmup_param_layer_bounds": (S, [c_int, c_double_p, c_double_p]),
    "pcmup_param_set": (S, [c_void_p, c_int, c_double]),
    "pcmup_param_get": (S, [c_void_p, c_int, c_double_p]),
    "pcmup_param_bounds": (S, [c_int, c_double_p, c_double_p]),
    "pcmup_param_layer_factors": (S, [c_void_p, c_size_p, c_size_t, c_size_t, c_double_p,
                                      c_size_t]),
    # 3. Networks
    "pcmup_net_create": (S, [c_void_pp, c_size_p, c_size_t, c_int, c_uint, c_void_p,
                             c_uint64, c_void_p]),
    "pcmup_net_free": (None, [c_void_p]),
    "pcmup_net_init_weights": (S, [c_void_p, c_uint64]),
    "pcmup_net_param": (S, [c_void_p, c_void_pp]),
    "pcmup_net_n_layers": (S, [c_void_p, c_size_p]),
    "pcmup_net_layer_shape": (S, [c_void_p, c_size_t, c_size_p, c_size_p]),
    "pcmup_net_param_count": (S, [c_void_p, c_size_p]),
    "pcmup_net_layer_factors": (S, [c_void_p, c_size_t, c_double_p, c_size_t]),
    "pcmup_net_get_weights": (S, [c_void_p, c_size_t, c_float_p, c_size_t]),
    "pcmup_net_set_weights": (S, [c_void_p, c_size_t, c_float_p, c_size_t]),
    "pcmup_net_get_bias": (S, [c_void_p, c_size_t, c_float_p, c_size_t]),
    "pcmup_net_set_bias": (S, [c_void_p, c_size_t, c_float_p, c_size_t]),
    "pcmup_net_builder_create": (S, [c_void_pp, c_void_p]),
    "pcmup_net_builder_free": (None, [c_void_p]),
    "pcmup_net_builder_add_conv": (S, [c_void_p, c_size_t, c_size_t, c_size_t, c_size_t,
                                       c_uint]),
    "pcmup_net_builder_add_dense": (S, [c_void_p, c_size_t, c_uint]),
    "pcmup_net_builder_set_activation": (S, [c_void_p, c_int]),
    "pcmup_net_builder_add_pool": (S, [c_void_p, c_int]),
    "pcmup_net_builder_parse": (S, [c_void_p, c_char_p]),
    "pcmup_net_builder_n_layers": (S, [c_void_p, c_size_p]),
    "pcmup_net_builder_check": (S, [c_void_p, c_size_t, c_size_t, c_size_t, c_size_t]),
    "pcmup_net_create_from_builder": (S, [c_void_pp, c_void_p, c_size_t, c_size_t, c_size_t,
                                          c_size_t, c_int, c_uint, c_void_p, c_uint64,
                                          c_void_p]),
    "pcmup_net_create_from_text": (S, [c_void_pp, c_char_p, c_size_t, c_size_t, c_size_t,
                                       c_size_t, c_int, c_uint, c_void_p, c_uint64,
                                       c_void_p]),
    "pcmup_net_describe": (S, [c_void_p, c_char_p, c_size_t, c_size_p]),
    "pcmup_net_input_shape": (S, [c_void_p, c_size_p, c_size_p, c_size_p]),
    "pcmup_net_weight_shape": (S, [c_void_p, c_size_t, c_size_p, c_size_t, c_size_p]),
    "pcmup_net_forward": (S, [c_void_p, c_float_p, c_size_t, c_size_t, c_float_p,
                              c_size_t]),
    "pcmup_net_forward_layer": (S, [c_void_p, c_float_p, c_size_t, c_size_t, c_size_t,
                                    c_int, c_float_p, c_size_t]),
    # 4. Datasets
    "pcmup_dataset_load_idx": (S, [c_void_pp, c_char_p, c_char_p, c_void_p]),
    "pcmup_dataset_load_fashion_mnist": (S, [c_void_pp, c_char_p, c_int, c_void_p]),
    "pcmup_dataset_load_idx_limited": (S, [c_void_pp, c_char_p, c_char_p, c_size_t,
                                           c_void_p]),
    "pcmup_dataset_load_fashion_mnist_limited": (S, [c_void_pp, c_char_p, c_int, c_size_t,
                                                     c_void_p]),
    "pcmup_dataset_load_cifar10": (S, [c_void_pp, c_char_p, c_int, c_void_p]),
    "pcmup_dataset_load_cifar10_limited": (S, [c_void_pp, c_char_p, c_int, c_size_t,
                                               c_void_p]),
    "pcmup_dataset_load_idx_head": (S, [c_void_pp, c_char_p, c_char_p, c_size_t, c_size_t,
                                        c_void_p]),
    "pcmup_dataset_load_fashion_mnist_head": (S, [c_void_pp, c_char_p, c_int, c_size_t,
                                                  c_size_t, c_void_p]),
    "pcmup_dataset_load_cifar10_head": (S, [c_void_pp, c_char_p, c_int, c_size_t, c_size_t,
                                            c_void_p]),
    "pcmup_dataset_from_arrays": (S, [c_void_pp, c_size_t, c_size_t, c_size_t, c_float_p,
                                      c_size_t, c_int32_p, c_void_p]),
    "pcmup_dataset_free": (None, [c_void_p]),
    "pcmup_dataset_info": (S, [c_void_p, c_size_p, c_size_p, c_size_p]),
    "pcmup_dataset_truncate": (S, [c_void_p, c_size_t]),
    "pcmup_dataset_standardize": (S, [c_void_p, c_void_p]),
    "pcmup_dataset_get_batch": (S, [c_void_p, c_size_t, c_size_t, c_float_p, c_size_t,
                                    c_int32_p]),
    "pcmup_dataset_one_hot": (S, [c_void_p, c_size_t, c_size_t, c_int, c_float_p,
                                  c_size_t]),
    # 5. Algorithms and settings
    "pcmup_setting_count": (c_size_t, []),
    "pcmup_setting_at": (S, [c_size_t, POINTER(c_int)]),
    "pcmup_setting_name": (S, [c_int, c_char_pp]),
    "pcmup_setting_find": (S, [c_char_p, POINTER(c_int)]),
    "pcmup_setting_description": (S, [c_int, c_char_pp]),
    "pcmup_setting_group_of": (S, [c_int, POINTER(c_int)]),
    "pcmup_setting_default": (S, [c_int, c_double_p]),
    "pcmup_setting_per_layer": (S, [c_int, POINTER(c_int)]),
    "pcmup_setting_accepts": (S, [c_int, c_int, POINTER(c_int)]),
    "pcmup_setting_value_name": (S, [c_int, c_double, c_char_pp]),
    "pcmup_setting_value_find": (S, [c_int, c_char_p, c_double_p]),
    "pcmup_setting_bounds": (Bounds, [c_int]),
    "pcmup_algo_create": (S, [c_void_pp, c_int, c_void_p, c_uint64, c_void_p]),
    "pcmup_algo_free": (None, [c_void_p]),
    "pcmup_algo_rule": (S, [c_void_p, POINTER(c_int)]),
    "pcmup_algo_set": (S, [c_void_p, c_int, c_double]),
    "pcmup_algo_get": (S, [c_void_p, c_int, c_double_p]),
    "pcmup_algo_set_layer": (S, [c_void_p, c_size_t, c_int, c_double]),
    "pcmup_algo_get_layer": (S, [c_void_p, c_size_t, c_int, c_double_p]),
    "pcmup_algo_step": (S, [c_void_p, c_float_p, c_size_t, c_int32_p, c_size_t,
                            c_double_p]),
    "pcmup_algo_train_epoch": (S, [c_void_p, c_void_p, c_size_t, c_double_p]),
    "pcmup_algo_reserve": (S, [c_void_p, c_size_t]),
    "pcmup_algo_evaluate": (S, [c_void_p, c_void_p, c_double_p, c_double_p]),
    "pcmup_algo_last_update": (S, [c_void_p, c_size_t, c_float_p, c_size_t]),
    "pcmup_algo_alignment_ratio": (S, [c_void_p, c_double_p]),
    # a pcmup_reducer* (its callbacks are the caller's transport: MPI, ...)
    "pcmup_algo_set_reducer": (S, [c_void_p, c_void_p]),
    # a pcmup_layer_split* (exchange_fn and sum_fn: the caller's transport)
    "pcmup_algo_set_layer_split": (S, [c_void_p, c_void_p]),
    "pcmup_algo_sync_layers": (S, [c_void_p]),
    # 6. Predictive coding
    "pcmup_pc_gamma_out": (S, [c_void_p, c_double_p]),
    "pcmup_pc_energy_trace": (S, [c_void_p, c_double_p, c_size_t, c_size_p]),
    "pcmup_pc_epoch_energy": (S, [c_void_p, c_double_p]),
    "pcmup_pc_error_norms": (S, [c_void_p, c_double_p, c_size_t]),
    "pcmup_pc_linear_equilibrium": (S, [c_void_p, c_float_p, c_size_t, c_int32_p, c_size_t,
                                        c_float_pp, c_size_t, c_float_pp, c_size_t,
                                        c_float_pp, c_size_t, c_float_p, c_size_t,
                                        c_double_p, c_double_p]),
    # 7. Gauss-Newton target
    "pcmup_gnt_damping": (S, [c_void_p, c_double_p, c_size_t]),
    "pcmup_gnt_system_size": (S, [c_void_p, c_size_t, c_size_p, c_size_t]),
    # 8. Target propagation
    "pcmup_tp_target_distances": (S, [c_void_p, c_double_p, c_size_t]),
    "pcmup_tp_feedback_loss": (S, [c_void_p, c_double_p, c_double_p, c_size_t]),
    "pcmup_tp_get_feedback": (S, [c_void_p, c_size_t, c_float_p, c_size_t]),
    "pcmup_tp_set_feedback": (S, [c_void_p, c_size_t, c_float_p, c_size_t]),
    # 9. Width transfer
    "pcmup_coord_check": (S, [c_void_p, c_size_p, c_size_t, c_float_p, c_size_t, c_int32_p,
                              c_size_t, c_float_p, c_size_t, c_size_t, c_size_p, c_size_t,
                              c_uint64, c_double_p, c_double_p, c_size_t]),
    "pcmup_algo_trial_update": (S, [c_void_p, c_float_p, c_size_t, c_int32_p, c_size_t,
                                    c_float_pp, c_size_t]),
    "pcmup_algo_reference_update": (S, [c_void_p, c_int, c_float_p, c_size_t, c_int32_p,
                                        c_size_t, c_float_pp, c_size_t]),
    "pcmup_algo_update_alignment": (S, [c_void_p, c_float_p, c_size_t, c_int32_p, c_size_t,
                                        c_double_p, c_double_p, c_double_p, c_double_p,
                                        c_size_t]),
    "pcmup_algo_compare_updates": (S, [c_void_p, c_float_p, c_size_t, c_int32_p, c_size_t,
                                       c_float_pp, c_size_t, c_double_p, c_double_p,
                                       c_double_p, c_double_p, c_size_t]),
    # 10. Checkpoints
    "pcmup_net_save": (S, [c_void_p, c_char_p, c_char_pp, c_size_t]),
    "pcmup_algo_save": (S, [c_void_p, c_char_p, c_char_pp, c_size_t]),
    "pcmup_checkpoint_open": (S, [c_void_pp, c_char_p, c_void_p]),
    "pcmup_checkpoint_free": (None, [c_void_p]),
    "pcmup_checkpoint_metadata": (S, [c_void_p, c_char_p, c_char_pp]),
    "pcmup_checkpoint_metadata_count": (S, [c_void_p, c_size_p]),
    "pcmup_checkpoint_metadata_at": (S, [c_void_p, c_size_t, c_char_pp, c_char_pp]),
    "pcmup_checkpoint_rule": (S, [c_void_p, POINTER(c_int)]),
    "pcmup_net_create_from_checkpoint": (S, [c_void_pp, c_void_p, c_void_p]),
    "pcmup_net_load_checkpoint": (S, [c_void_p, c_void_p]),
    "pcmup_algo_load_checkpoint": (S, [c_void_p, c_void_p]),
    "pcmup_algo_create_from_checkpoint": (S, [c_void_pp, c_void_p, c_void_p, c_void_p]),
    "pcmup_algo_counters": (S, [c_void_p, POINTER(c_uint64), POINTER(c_uint64)]),
}


def _load():
    path = library_path()
    _check_soname(path)
    try:
        dll = ctypes.CDLL(path)
    except OSError as e:
        raise LibraryError(f"cannot load {path}: {e}") from None
    ns = _Namespace()
    missing = []
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(dll, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype, fn.argtypes = restype, argtypes
        setattr(ns, name, fn)
    version = dll.pcmup_version_string
    version.restype = c_char_p
    if missing or ns.pcmup_version_number() < MIN_VERSION:
        raise LibraryError(
            f"{path} is libpcmup {version().decode()}, older than this package needs "
            f"(0.2.0 or later; missing: {', '.join(missing[:4]) or 'none'})")
    return ns, path, dll


C, PATH, _DLL = _load()


def decode(s):
    return s.decode("utf-8") if s is not None else None
