"""The errors nnbench raises on purpose.

Every one derives from NNBenchError, so the CLI can turn any of them into one readable line,
and from the built-in type a Python user would expect (ValueError, TypeError, ...), so
ordinary `except ValueError` code keeps working.
"""


class NNBenchError(Exception):
    """Base of every error nnbench raises on purpose (the message is meant for a person)."""


class InputError(NNBenchError, ValueError):
    """A value is out of range or the wrong shape: names what was given and what was expected."""


class InputTypeError(NNBenchError, TypeError):
    """A value of the wrong type (an object array, a string where a number belongs)."""


class UnknownNameError(InputError):
    """An implementation, preset, dtype, activation or loss name that does not exist."""

    def __init__(self, kind: str, name: object, valid):
        super().__init__(f"unknown {kind} {name!r}; expected one of: {', '.join(sorted(valid))}")


class DataError(InputError):
    """A data file that is missing, truncated, malformed or fails its checksum."""


class UnavailableError(NNBenchError, RuntimeError):
    """An implementation whose optional dependency is missing on this machine."""


class UnsupportedError(InputError):
    """A network, dtype or option an implementation declares it cannot compute
    (`Implementation.supports`): refused with its reason, never attempted."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message  # the implementation's own phrase


class BudgetError(UnsupportedError, MemoryError):
    """A computation that would need more memory than its budget allows (refused, not tried)."""


class PluginError(NNBenchError, RuntimeError):
    """An implementation from outside the package that could not be loaded or misbehaved."""


class DivergenceError(NNBenchError, ArithmeticError):
    """Training produced a NaN or infinite loss."""
