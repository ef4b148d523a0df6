"""The offline gazetteer and the distance helpers behind "--near 'Cleveland, OH' --within 100mi"."""

from __future__ import annotations

import math

import pytest

from trialscout.geo import (Place, PlaceNotFound, bounding_box, haversine_km, locate_site, parse_distance,
                            resolve_place)
from trialscout.geo.distance import EARTH_RADIUS_KM


def _destination(lat: float, lon: float, bearing_deg: float, distance_km: float) -> tuple[float, float]:
    """The point distance_km away on a bearing (spherical direct problem), to probe the box from outside its code."""
    phi, lam, theta = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    delta = distance_km / EARTH_RADIUS_KM
    phi2 = math.asin(math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta))
    lam2 = lam + math.atan2(math.sin(theta) * math.sin(delta) * math.cos(phi),
                            math.cos(delta) - math.sin(phi) * math.sin(phi2))
    lon2 = (math.degrees(lam2) + 540.0) % 360.0 - 180.0
    return math.degrees(phi2), lon2


# --- resolve_place -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Cleveland, OH", "Cleveland, Ohio", "cleveland, oh", "Cleveland, Ohio, USA",
                                  "Cleveland, OH, United States", "Cleveland"])
def test_cleveland_ohio_not_tennessee(text: str) -> None:
    place = resolve_place(text)
    assert place.kind == "city"
    assert (place.country_code, place.admin1) == ("US", "OH")
    assert place.lat == pytest.approx(41.50, abs=0.02)
    assert place.lon == pytest.approx(-81.69, abs=0.02)


@pytest.mark.parametrize("text", ["Cleveland, Tennessee", "Cleveland, TN"])
def test_state_picks_the_smaller_cleveland(text: str) -> None:
    place = resolve_place(text)
    assert (place.country_code, place.admin1) == ("US", "TN")
    assert place.lat == pytest.approx(35.16, abs=0.05)


def test_paris_france_and_paris_texas() -> None:
    assert resolve_place("Paris").country_code == "FR"
    assert resolve_place("Paris, France").country_code == "FR"
    texas = resolve_place("Paris, TX")
    assert (texas.country_code, texas.admin1) == ("US", "TX")
    assert haversine_km(texas.lat, texas.lon, 33.66, -95.56) < 5


@pytest.mark.parametrize("text, country", [("Lyon, FR", "FR"), ("Lyon, France", "FR"),
                                           ("Seoul, Korea, Republic of", "KR"), ("Moscow, Russian Federation", "RU"),
                                           ("Tbilisi, Georgia", "GE"), ("London, CA", "CA")])
def test_country_qualifier_by_name_code_or_registry_spelling(text: str, country: str) -> None:
    assert resolve_place(text).country_code == country


def test_two_letter_qualifier_reads_as_us_state_first() -> None:
    # DE is Delaware and Germany; Dover exists only in Delaware, Frankfurt only in Germany.
    assert resolve_place("Dover, DE").admin1 == "DE"
    assert resolve_place("Frankfurt, DE").country_code == "DE"
    assert resolve_place("Atlanta, Georgia").admin1 == "GA"


@pytest.mark.parametrize("text, name", [("Sao Paulo", "São Paulo"), ("SAO PAULO, brazil", "São Paulo"),
                                        ("Zurich", "Zürich"), ("Lodz", "Łódź"), ("Cologne, Germany", "Köln"),
                                        ("St Louis, MO", "St. Louis"), ("New York, NY", "New York City")])
def test_accents_punctuation_and_alternate_names(text: str, name: str) -> None:
    assert resolve_place(text).name == name


@pytest.mark.parametrize("text, lat, lon", [("41.5,-81.69", 41.5, -81.69), (" 41.5 , -81.69 ", 41.5, -81.69),
                                            ("-33.9,151.2", -33.9, 151.2), ("90,180", 90.0, 180.0)])
def test_coordinates(text: str, lat: float, lon: float) -> None:
    place = resolve_place(text)
    assert place == Place(name=place.name, lat=lat, lon=lon, country_code=None, admin1=None, population=None,
                          kind="coordinates")


@pytest.mark.parametrize("text, problem", [("95,10", "latitude 95"), ("-91,0", "latitude -91"),
                                           ("10,200", "longitude 200"), ("0,-180.5", "longitude -180.5")])
def test_bad_coordinates_name_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        resolve_place(text)
    assert not isinstance(caught.value, PlaceNotFound)
    assert "\n" not in str(caught.value)


def test_unknown_place_message() -> None:
    # "Atlantis" would not do: GeoNames has an Atlantis of 80,000 people in South Africa.
    with pytest.raises(PlaceNotFound) as caught:
        resolve_place("Narnia")
    message = str(caught.value)
    assert message.startswith("unknown place 'Narnia'")
    assert "'City, ST', 'City, Country' or 'LAT,LON'" in message
    assert "\n" not in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("text", ["Cleveland, Narnia", "Paris, Germany", "Cleveland, Ohioo, USA", "", " , ",
                                  "Cleveland,"])
def test_unmatched_qualifiers_are_not_guessed_away(text: str) -> None:
    with pytest.raises(PlaceNotFound, match="unknown place"):
        resolve_place(text)


# --- locate_site -------------------------------------------------------------------------------------------


def test_locate_bethesda() -> None:
    lat, lon = locate_site("Bethesda", "Maryland", "United States")
    assert haversine_km(lat, lon, 38.98, -77.10) < 5


def test_locate_salvador_bahia() -> None:
    lat, lon = locate_site("Salvador", "Bahia", "Brazil")
    assert haversine_km(lat, lon, -12.97, -38.50) < 10


@pytest.mark.parametrize("city, state, country, lat, lon", [
    ("Seoul", None, "Korea, Republic of", 37.57, 126.98),
    ("Moscow", None, "Russian Federation", 55.75, 37.62),
    ("Tehran", None, "Iran, Islamic Republic of", 35.69, 51.42),
    ("Taipei", None, "Taiwan", 25.05, 121.53),
    ("London", None, "United Kingdom", 51.51, -0.13),
    ("Prague", None, "Czechia", 50.09, 14.42),
    ("Brno", None, "Czech Republic", 49.20, 16.61),
    ("Amsterdam", None, "Netherlands", 52.37, 4.89),
    ("Abidjan", None, "Côte D'Ivoire", 5.35, -4.00),
    ("Montreal", "Quebec", "Canada", 45.51, -73.59),
    ("San Juan", "Puerto Rico", "United States", 18.47, -66.11),
    ("Cleveland", "Tennessee", "United States", 35.16, -84.88),
])
def test_locate_registry_spellings(city: str, state: str | None, country: str, lat: float, lon: float) -> None:
    found = locate_site(city, state, country)
    assert found is not None
    assert haversine_km(*found, lat, lon) < 10


@pytest.mark.parametrize("city, state, country", [
    ("Nowhereville", "Ohio", "United States"),  # unknown city
    ("Paris", None, "Germany"),  # known city, wrong country
    ("Bethesda", None, "Brazil"),
    ("Cleveland", "Texas", "United States"),  # known city, wrong US state
    ("Paris", None, "Narnia"),  # country we cannot read: cannot check, so no answer
    ("Columbus", "Ohioo", "United States"),  # US state we cannot read
    (None, "Ohio", "United States"),
    ("", None, None),
])
def test_locate_refuses_to_guess(city: str | None, state: str | None, country: str | None) -> None:
    assert locate_site(city, state, country) is None


def test_locate_is_memoised_and_consistent() -> None:
    first = locate_site("Bethesda", "Maryland", "United States")
    assert locate_site("Bethesda", "Maryland", "United States") is first


# --- distances -----------------------------------------------------------------------------------------------


def test_haversine_cleveland_columbus() -> None:
    assert haversine_km(41.4995, -81.69541, 39.96118, -82.99879) == pytest.approx(203.3, abs=2)


def test_haversine_is_symmetric_and_zero_on_the_spot() -> None:
    assert haversine_km(10, 20, 10, 20) == 0
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert haversine_km(41.5, -81.7, -12.97, -38.5) == pytest.approx(haversine_km(-12.97, -38.5, 41.5, -81.7))


@pytest.mark.parametrize("text, km", [("100mi", 160.9344), ("100 mi", 160.9344), ("100 miles", 160.9344),
                                      ("100 MI", 160.9344), ("50km", 50.0), ("50 km", 50.0), ("25.5mi", 41.038272),
                                      ("100", 160.9344), ("1 mile", 1.609344), ("12 kilometres", 12.0)])
def test_parse_distance(text: str, km: float) -> None:
    assert parse_distance(text) == pytest.approx(km)


@pytest.mark.parametrize("text, message", [
    ("-5mi", "distance must be positive, got '-5mi'"),
    ("0", "distance must be positive, got '0'"),
    ("0km", "distance must be positive, got '0km'"),
    ("far", "cannot read distance 'far': use e.g. 100mi or 50km"),
    ("", "cannot read distance '': use e.g. 100mi or 50km"),
    ("mi", "cannot read distance 'mi': use e.g. 100mi or 50km"),
    ("5 parsecs", "unknown distance unit 'parsecs' in '5 parsecs': use mi or km"),
])
def test_parse_distance_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_distance(text)
    assert str(caught.value) == message


def _inside(box: tuple[float, float, float, float], lat: float, lon: float) -> bool:
    min_lat, max_lat, min_lon, max_lon = box
    return min_lat <= lat <= max_lat and min_lon <= lon <= max_lon


@pytest.mark.parametrize("lat, lon, radius_km", [(41.5, -81.69, 160.9344), (0.0, 0.0, 50.0), (-33.9, 151.2, 500.0),
                                                 (64.1, -21.9, 1000.0), (70.0, 20.0, 2000.0)])
def test_bounding_box_contains_the_whole_circle(lat: float, lon: float, radius_km: float) -> None:
    box = bounding_box(lat, lon, radius_km)
    assert box[2] > -180 and box[3] < 180  # none of these reach a pole or the antimeridian
    for bearing in range(0, 360, 3):
        point = _destination(lat, lon, bearing, radius_km)
        assert haversine_km(lat, lon, *point) == pytest.approx(radius_km)
        assert _inside(box, *point), (bearing, point, box)


def test_bounding_box_is_reasonably_tight() -> None:
    min_lat, max_lat, min_lon, max_lon = bounding_box(41.5, -81.69, 160.9344)
    assert max_lat - min_lat == pytest.approx(2 * 160.9344 / 111.2, rel=0.01)
    assert max_lon - min_lon < 2 * 160.9344 / (111.2 * math.cos(math.radians(41.5))) * 1.05


@pytest.mark.parametrize("lat, lon, radius_km", [(89.0, 10.0, 200.0), (-89.5, -170.0, 100.0), (90.0, 0.0, 1.0)])
def test_bounding_box_over_a_pole_spans_all_longitudes(lat: float, lon: float, radius_km: float) -> None:
    box = bounding_box(lat, lon, radius_km)
    assert (box[2], box[3]) == (-180.0, 180.0)
    assert box[0] >= -90 and box[1] <= 90
    for bearing in range(0, 360, 3):
        assert _inside(box, *_destination(lat, lon, bearing, radius_km))


def test_bounding_box_across_the_antimeridian_spans_all_longitudes() -> None:
    box = bounding_box(-17.7, 179.5, 150.0)  # Fiji
    assert (box[2], box[3]) == (-180.0, 180.0)
    for bearing in range(0, 360, 3):
        assert _inside(box, *_destination(-17.7, 179.5, bearing, 150.0))


def test_bounding_box_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        bounding_box(41.5, -81.69, -1.0)
    with pytest.raises(ValueError):
        bounding_box(91.0, 0.0, 10.0)
