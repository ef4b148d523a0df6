"""The page's own ids — NCT id, other registries' ids, the sponsor's study id — as opposed to ids
it only cites.

Pages mention other trials in see-also lists, references and related-study boxes; taking one of
those as the page's own id would merge two trials. So an id counts as the page's only when it is
labelled, named with this study's title, or the only one outside the cited-trial sections.
"""

from __future__ import annotations

import re

from .sections import Section, content, split_inline, value_texts
from .title import same_title
from .values import NCT
from .vocab import vocabulary


def find_nct_id(sections: list[Section], title: str | None) -> str | None:
    """This study's NCT id — never one the page only cites (see-also lists, references).

    In order: an id under an id label; a registry page title naming this study ('Study Details |
    NCT... | <title>'); the only NCT id outside cited-trial sections.
    """
    for section in sections:
        if section.name in ("nct_id", "registry_id"):
            for text in value_texts(section, 2):
                if m := NCT.search(text):
                    return m.group(0)
    candidates = set()
    for section in sections:
        for line in section.lines:
            for pattern in vocabulary().self_id:
                m = pattern.search(line.text)
                if m and (len(m.groups()) < 2 or same_title(title, m.group(2))):
                    candidates.add(m.group(1).upper())
    if len(candidates) == 1:
        return candidates.pop()
    mentioned = {m.group(0) for section in sections if section.name != "_ignore"
                 for line in section.lines for m in NCT.finditer(line.text)}
    return mentioned.pop() if len(mentioned) == 1 else None


def find_registry_ids(sections: list[Section]) -> tuple[list[str], str | None]:
    """Ids from other registries (labelled ones first) and the org study id."""
    labelled: list[str] = []
    org = None
    for section in sections:
        if section.name == "registry_id":
            labelled += _ids_in(value_texts(section, 2), bare_only=False)[:1] or _plain_ids(value_texts(section, 1))
        elif section.name == "secondary_ids":
            ids, org_here = _secondary_ids(section)
            labelled += ids
            org = org or org_here
        elif section.name == "org_study_id" and org is None:
            org = next(iter(_plain_ids(value_texts(section, 2))), None)
    # Unlabelled ids count only outside cited-trial sections; one pass over that text.
    text = "\n".join(line.text for section in sections if section.name != "_ignore" for line in section.lines)
    bare = _ids_in([text], bare_only=True)
    out: list[str] = []
    for i in labelled + bare:
        if i not in out and not NCT.fullmatch(i) and i != org:
            out.append(i)
    return out, org


def _ids_in(texts: list[str], bare_only: bool) -> list[str]:
    out = []
    for text in texts:
        for pattern, bare in vocabulary().registry_ids:
            if bare or not bare_only:
                out += [m.group(0) for m in pattern.finditer(text)
                        if not m.start() or not text[m.start() - 1].isalnum()]
    return out


def _plain_ids(texts: list[str]) -> list[str]:
    """Single id-like tokens ('10002167', '002167-AR') from an id label's value."""
    out = []
    for text in texts:
        for token in re.split(r"[;,\s]+", text):
            if any(ch.isdigit() for ch in token) and len(token) <= 40 and not NCT.fullmatch(token):
                out.append(token.strip(".:"))
    return out


def _secondary_ids(section: Section) -> tuple[list[str], str | None]:
    """Ids listed under 'Other Identifiers'; an 'Identifier Source: org_study_id' line marks the org id."""
    ids = _plain_ids(split_inline(section.value))
    org = None
    for line in content(section):
        if line.blank or line.field:
            continue
        source = line.attr("id_source")
        if source is not None:
            if ids and "org" in source.casefold():
                org = ids.pop()
            continue
        if not line.hit and len(line.text.split()) == 1:
            ids += _plain_ids([line.text])
    return ids, org
