"""Give trial sites without a registry geoPoint a point from the offline gazetteer.

Legacy XML records carry only addresses, and distance search needs coordinates; the
point is marked ``geo_source="gazetteer"`` so nobody mistakes it for the registry's.
"""

from __future__ import annotations

from trialscout.geo import locate_site
from trialscout.model import Trial


def place_sites(trial: Trial) -> Trial:
    for site in trial.locations:
        if site.lat is None and site.city:
            point = locate_site(site.city, site.state, site.country)
            if point:
                site.lat, site.lon = point
                site.geo_source = "gazetteer"
    return trial
