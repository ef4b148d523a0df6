"""Placing things on the map offline: the place a search is near, and trial sites without coordinates."""

from .distance import bounding_box, haversine_km, parse_distance
from .gazetteer import Place, PlaceNotFound, locate_site, resolve_place

__all__ = ["Place", "PlaceNotFound", "bounding_box", "haversine_km", "locate_site", "parse_distance",
           "resolve_place"]
