"""Every unit the suite prints, formatted once: seconds, plain numbers, ratios, shares, bytes
(and the short form of a long reason).

Each formatter returns "-" for a missing or non-finite value, so a table never shows "nan".
"""

from __future__ import annotations

import math


def _missing(value) -> bool:
    return value is None or not math.isfinite(value)


def seconds_text(value: float) -> str:
    if _missing(value):
        return "-"
    if value >= 120:
        return f"{value / 60:.3g} min"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if abs(value) >= scale * 0.9995 or unit == "ns":  # 999.7 µs reads "1 ms"
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g} s"


def whole_seconds_text(value: float) -> str:
    """Seconds to the whole second, never in minutes: a run's length against its limit."""
    return "-" if _missing(value) else f"{value:.0f} s"


def number_text(value: float, digits: int = 3) -> str:
    if _missing(value):
        return "-"
    value = float(f"{value:.{digits}g}")  # 999.97 is "1,000", not "1e+03"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def ratio_text(value: float) -> str:
    return "-" if _missing(value) else f"{number_text(value)}×"


def share_text(value: float) -> str:
    if _missing(value):
        return "-"
    return "<1%" if 0 < value < 0.005 else f"{value:.0%}"


def bytes_text(value: float) -> str:
    """Decimal units, as the charts and the Jacobian's own messages give them."""
    if _missing(value) or value <= 0:
        return "-"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f} B"


def range_text(low: float, high: float, formatter) -> str:
    """An interval, each bound in the figure's own unit ("-" without one)."""
    if _missing(low) or _missing(high):
        return "-"
    return f"{formatter(low)} to {formatter(high)}"


def first_clause(message: str) -> str:
    """The start of a long error message, up to its first colon or semicolon."""
    for mark in (":", ";"):
        message = message.split(mark, 1)[0]
    return message.strip()


def short_reason(reason: str, most: int = 120) -> str:
    """A reason as a listing shows it: whole if short, else its first clause."""
    return reason if len(reason) <= most else f"{first_clause(reason)} (...)"
