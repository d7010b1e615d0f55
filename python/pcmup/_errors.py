# SPDX-License-Identifier: MIT
"""One exception class per pcmup_status, carrying pcmup_last_error().

The class of a status is found by the status's name in the library
(pcmup_status_name: "PCMUP_ERR_SHAPE" -> ShapeError); a status this package
does not know (a newer library) raises PcmupError itself.
"""
from ._lib import C, decode


class PcmupError(Exception):
    """A libpcmup call failed. `status` is the pcmup_status number,
    `status_name` its name ("PCMUP_ERR_SHAPE") and `message` the library's
    detailed message (pcmup_last_error)."""

    def __init__(self, message, status=None, status_name=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.status_name = status_name


class NullError(PcmupError):
    """PCMUP_ERR_NULL: a required pointer was NULL."""


class InvalidError(PcmupError, ValueError):
    """PCMUP_ERR_INVALID: an argument or setting value is invalid."""


class ShapeError(PcmupError, ValueError):
    """PCMUP_ERR_SHAPE: sizes or widths do not match (also raised before the
    call for an array of the wrong shape)."""


class NoMemoryError(PcmupError, MemoryError):
    """PCMUP_ERR_NOMEM: the allocator returned NULL."""


class FileError(PcmupError, OSError):
    """PCMUP_ERR_IO: a file could not be opened or read."""


class FormatError(PcmupError, ValueError):
    """PCMUP_ERR_FORMAT: a data file is malformed or over a limit."""


class DivergedError(PcmupError, ArithmeticError):
    """PCMUP_ERR_DIVERGED: a non-finite loss, weight or state."""


class UnsupportedError(PcmupError):
    """PCMUP_ERR_UNSUPPORTED: a valid request this object does not serve."""


# The status names of pcmup.h, each with its class.
CLASS_OF_NAME = {
    "PCMUP_ERR_NULL": NullError,
    "PCMUP_ERR_INVALID": InvalidError,
    "PCMUP_ERR_SHAPE": ShapeError,
    "PCMUP_ERR_NOMEM": NoMemoryError,
    "PCMUP_ERR_IO": FileError,
    "PCMUP_ERR_FORMAT": FormatError,
    "PCMUP_ERR_DIVERGED": DivergedError,
    "PCMUP_ERR_UNSUPPORTED": UnsupportedError,
}


def error_for(status, message=None):
    """The exception for a failed status, with the library's message."""
    name = decode(C.pcmup_status_name(status))
    if message is None:
        message = decode(C.pcmup_last_error()) or decode(C.pcmup_status_message(status))
    cls = CLASS_OF_NAME.get(name, PcmupError)
    return cls(f"{message} ({name})", status, name)


def check(status):
    """Raises the status's exception unless it is PCMUP_OK (0)."""
    if status != 0:
        raise error_for(status)
