"""Units for lab and dose thresholds: alias normalisation and pint-backed conversion.

The pint registry costs ~0.5 s to build, so it is built on first use, not at import. Criteria
parsing calls ``normalize_unit`` per candidate unit and ``convert`` per comparison, so both are
memoised: a conversion is reduced once to an affine map (scale, offset) per unit pair.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib import resources
from typing import Any

__all__ = ["UnitError", "normalize_unit", "convert", "compatible", "dimension_of", "registry"]


class UnitError(ValueError):
    """Unknown unit, or two units that cannot be converted into each other."""


def _load_aliases() -> tuple[dict[str, str], dict[str, str]]:
    data = json.loads(resources.files(__package__).joinpath("unit_aliases.json").read_text("utf-8"))
    return data["case_sensitive"], data["aliases"]


_CASE, _ALIASES = _load_aliases()
_CANONICAL = frozenset(_ALIASES.values()) | frozenset(_CASE.values())
_KEY_MAP = str.maketrans(
    {"µ": "u", "μ": "u", "²": "2", "³": "3", "⁰": "0", "¹": "1", "⁴": "4", "⁵": "5", "⁶": "6",
     "⁷": "7", "⁸": "8", "⁹": "9", "^": None, "*": None, "×": None, "\u00a0": None}
)
_PER = re.compile(r"\s+per\s+|\s*/\s*", re.I)
_WS = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def normalize_unit(raw: str) -> str | None:
    """Canonical, pint-parseable spelling of a unit as written in criteria text, or None if unknown.

    ``"cells/microliter"``, ``"/mm³"`` -> ``"1/uL"``; ``"× 10⁹/L"``, ``"G/L"`` -> ``"1e9/L"``;
    ``"g/l"`` -> ``"g/L"``; ``"ml/min per 1.73 m2"`` -> ``"mL/min/(1.73 m^2)"``.
    """
    s = raw.strip().rstrip(".,;:")
    if not s or len(s) > 40:
        return None
    if s in _CANONICAL:
        return s
    hit = _CASE.get(_WS.sub("", s))
    if hit:
        return hit
    key = _WS.sub("", _PER.sub("/", s).translate(_KEY_MAP)).lower()
    if key[:1] == "x":
        key = key[1:]
    return _ALIASES.get(key)


@cache
def registry() -> Any:
    """The shared pint UnitRegistry with ``units.txt`` loaded (built on first call)."""
    import pint

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    with resources.as_file(resources.files(__package__).joinpath("units.txt")) as path:
        ureg.load_definitions(str(path))
    return ureg


@lru_cache(maxsize=1024)
def _parse(unit: str) -> Any:
    """Unit string (canonical or any known alias) -> pint Quantity of magnitude 1 in that unit."""
    ureg = registry()
    text = unit.strip()
    for cand in (text, "1" + text if text.startswith("/") else None, normalize_unit(text)):
        if not cand:
            continue
        try:
            q = ureg.parse_expression(cand)
        except Exception:  # pint raises several unrelated types for bad input
            continue
        if isinstance(q, ureg.Quantity):
            return q
    raise UnitError(f"unknown unit {unit!r}")


def _quantity(value: float, unit: str) -> Any:
    q = _parse(unit)
    # Offset units (degC) cannot be scaled, so build them from magnitude instead of multiplying.
    return registry().Quantity(value * q.magnitude, q.units)


@lru_cache(maxsize=4096)
def _affine(from_unit: str, to_unit: str, molar_mass: float | None) -> tuple[float, float]:
    """(scale, offset) with ``to = scale * from + offset``; offset is non-zero only for temperatures."""
    ureg = registry()
    try:
        source, target = _parse(from_unit), _parse(to_unit)
    except UnitError as exc:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: {exc}") from None
    bridges: list[Any] = [None]
    if molar_mass:
        m = ureg.Quantity(molar_mass, "g/mol")
        bridges += [m, 1 / m]
    for bridge in bridges:
        try:
            def run(v: float) -> float:
                q = _quantity(v, from_unit)
                if bridge is not None:
                    q = q * bridge
                return float(q.to(target.units).magnitude / target.magnitude)

            at0, at1 = run(0.0), run(1.0)
        except Exception:  # DimensionalityError and friends: try the next bridge
            continue
        return at1 - at0, at0
    dims = {str(source.dimensionality), str(target.dimensionality)}
    molar = any("[substance]" in d for d in dims) and any("[mass]" in d for d in dims)
    hint = " (mass <-> molar needs molar_mass)" if molar and not molar_mass else ""
    raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}{hint}")


def convert(value: float, from_unit: str, to_unit: str, molar_mass: float | None = None) -> float:
    """Convert ``value`` between units; ``molar_mass`` (g/mol) bridges mg/dL <-> umol/L.

    Raises UnitError naming both units when they are unknown or incompatible.
    """
    scale, offset = _affine(from_unit, to_unit, molar_mass)
    return value * scale + offset


def compatible(a: str, b: str, molar_mass: float | None = None) -> bool:
    try:
        _affine(a, b, molar_mass)
    except UnitError:
        return False
    return True


@lru_cache(maxsize=1024)
def dimension_of(unit: str) -> str:
    """pint dimensionality as text, e.g. ``"[mass] / [length] ** 3"``; ``"dimensionless"`` for %."""
    dim = str(_parse(unit).dimensionality)
    return dim or "dimensionless"
