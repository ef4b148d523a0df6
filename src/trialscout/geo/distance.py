"""Great-circle distances, the "--within" parser and the box a radius search can pre-filter on."""

from __future__ import annotations

import math
import re

# Mean Earth radius (IUGG). The box and the distance must share it, or a point exactly on the
# circle could fall outside the box that is meant to contain it.
EARTH_RADIUS_KM = 6371.0088
KM_PER_MILE = 1.609344

_DISTANCE = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*([^\d\s.+-][^\d]*?)?\s*$")
_KM_PER_UNIT = {
    "": KM_PER_MILE,  # ClinicalTrials.gov states distances in miles, so a bare number means miles
    "mi": KM_PER_MILE,
    "mile": KM_PER_MILE,
    "miles": KM_PER_MILE,
    "km": 1.0,
    "kms": 1.0,
    "kilometer": 1.0,
    "kilometers": 1.0,
    "kilometre": 1.0,
    "kilometres": 1.0,
}

# Padding on the box's angular radius: float rounding must never push a point that is exactly
# radius_km away (by haversine_km) out of the box.
_BOX_PAD = 1e-9


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km; the spherical model errs by < 0.5 %, far below what site search needs."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlam = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    # Rounding can push `a` a hair above 1 for antipodal points, and asin would then fail.
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def parse_distance(text: str) -> float:
    """Read a search radius such as "100mi", "100 miles", "50km" or "25.5mi" and return kilometres.

    A bare number ("100") means miles, because ClinicalTrials.gov's own location search uses miles
    and people copy its numbers. Raises ValueError with a one-line message for anything else.
    """
    match = _DISTANCE.match(text)
    if match is None:
        raise ValueError(f"cannot read distance {text!r}: use e.g. 100mi or 50km")
    number, unit = match.group(1), (match.group(2) or "").strip().lower()
    km_per_unit = _KM_PER_UNIT.get(unit)
    if km_per_unit is None:
        raise ValueError(f"unknown distance unit {unit!r} in {text!r}: use mi or km")
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(f"cannot read distance {text!r}: use e.g. 100mi or 50km")
    if value <= 0:
        raise ValueError(f"distance must be positive, got {text!r}")
    return value * km_per_unit


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) containing every point within radius_km of (lat, lon).

    Meant as a cheap index pre-filter before the exact haversine test, so it only has to be a
    superset: when the circle reaches a pole or crosses the antimeridian the longitude range is
    widened to the full -180..180 instead of returning two boxes.
    """
    if not -90.0 <= lat <= 90.0 or not -180.0 <= lon <= 180.0:
        raise ValueError(f"point ({lat}, {lon}) is outside -90..90 / -180..180")
    if not math.isfinite(radius_km) or radius_km < 0:
        raise ValueError(f"radius must be a finite, non-negative number of km, got {radius_km!r}")
    angular = radius_km / EARTH_RADIUS_KM * (1 + _BOX_PAD)
    dlat = math.degrees(angular)
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90.0 or max_lat >= 90.0:
        # The cap contains a pole, so it spans every meridian.
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    # Widest longitude reach of a spherical cap that stays clear of the poles; the argument is < 1
    # here because angular < 90° - |lat|. This is wider than radius/cos(lat) would suggest away
    # from the centre's parallel, which is exactly why the naive formula misses points.
    dlon = math.degrees(math.asin(math.sin(angular) / math.cos(math.radians(lat))))
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180.0 or max_lon > 180.0:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, min_lon, max_lon
