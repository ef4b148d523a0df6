"""The importer's vocabulary: which texts are labels, and how values are spelled.

Labels and value spellings live as data in ``labels.json`` (next to this module), so a new page
layout is taught by adding its labels there rather than code. This module loads that file once,
folds every spelling to a matching key, and answers "is this text a label, and of what?".
It also says how each field's content is read (one value, criteria, prose, free text), which
the line, section and record readers all consult.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

# How each field's content is read.
SCALAR = {"nct_id", "registry_id", "org_study_id", "brief_title", "official_title", "acronym", "overall_status",
          "phases", "study_type", "enrollment", "lead_sponsor", "organization", "start_date",
          "primary_completion_date", "completion_date", "first_posted", "last_update_posted", "age_range",
          "minimum_age", "maximum_age", "sex", "healthy_volunteers", "allocation", "intervention_model", "masking",
          "primary_purpose", "observational_model", "time_perspective"}
CRITERIA = {"inclusion", "exclusion", "eligibility"}
PROSE = {"brief_summary", "detailed_description"}
# Fields whose value is free text, so a "Label value" row without a separator cannot be checked
# by parsing it; such rows are believed only inside a run of other label/value rows.
FREE = {"brief_title", "official_title", "acronym", "lead_sponsor", "organization", "collaborators",
        "central_contacts", "site_contacts", "officials", "conditions", "interventions", "keywords", "countries",
        "allocation", "intervention_model", "masking", "primary_purpose", "observational_model", "time_perspective",
        "role", "affiliation", "site_status", "id_source", "id_type", "sponsor_role", "time_frame", "official"}


_FOLD = ((re.compile(r"['’‘`]|\((?:s|es)\)"), ""), (re.compile(r"[*_#]+"), " "), (re.compile(r"\s*([/&])\s*"), r"\1"),
         (re.compile(r"[^\w/&+.\-]+"), " "))


@functools.lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Matching key for labels and enumerated values: case, punctuation and '(s)' do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for pattern, replacement in _FOLD:
        text = pattern.sub(replacement, text)
    return " ".join(text.split()).strip(" .-")


@dataclass(frozen=True)
class Vocab:
    labels: dict[str, tuple[str, str]]  # folded label -> ("field" | "attr", name)
    first_words: frozenset[str]  # first word of any label (a cheap test before trying prefixes)
    value_first: dict[str, str]  # folded trailing label -> field
    last_words: frozenset[str]  # last word of any trailing label
    qualifiers: dict[str, str | None]
    status: dict[str, str]
    sex: dict[str, str]
    phase_na: frozenset[str]
    intervention_type: dict[str, str]
    arm_type: dict[str, str]
    role: dict[str, str]
    std_ages: dict[str, str]
    noise: re.Pattern
    self_id: tuple[re.Pattern, ...]
    registry_ids: tuple[tuple[re.Pattern, bool], ...]
    org_words: frozenset[str]
    degrees: frozenset[str]
    link_words: frozenset[str]
    study_words: frozenset[str]
    enums: dict[str, frozenset[str]]  # model vocab.json: allowed enum values


@functools.lru_cache(maxsize=1)
def vocabulary() -> Vocab:
    data = json.loads(resources.files(__package__).joinpath("labels.json").read_text(encoding="utf-8"))
    model = json.loads(resources.files("trialscout.model").joinpath("vocab.json").read_text(encoding="utf-8"))
    labels: dict[str, tuple[str, str]] = {}
    for kind, table in (("field", data["fields"]), ("attr", data["attributes"])):
        for name, synonyms in table.items():
            for synonym in synonyms:
                key = fold(synonym)
                if key in labels and labels[key] != (kind, name):
                    raise ValueError(f"labels.json: {synonym!r} is a label of both {labels[key][1]} and {name}")
                labels[key] = (kind, name)
    values = data["values"]
    return Vocab(
        labels=labels,
        first_words=frozenset(w for k in labels for w in (k.split()[0], k.split()[0].split("/")[0]))
        | frozenset(data["qualifiers"]),
        value_first={fold(s): name for name, suffixes in data["value_first"].items() for s in suffixes},
        last_words=frozenset(fold(s).split()[-1] for suffixes in data["value_first"].values() for s in suffixes),
        qualifiers=data["qualifiers"],
        status={fold(k): v for k, v in values["status"].items()},
        sex={fold(k): v for k, v in values["sex"].items()},
        phase_na=frozenset(fold(v) for v in values["phase_na"]),
        intervention_type={fold(k): v for k, v in values["intervention_type"].items()},
        arm_type={fold(k): v for k, v in values["arm_type"].items()},
        role={fold(k): v for k, v in values["role"].items()},
        std_ages={fold(k): v for k, v in values["std_ages"].items()},
        noise=re.compile("|".join(f"(?:{p})" for p in data["noise"]), re.IGNORECASE),
        self_id=tuple(re.compile(p, re.IGNORECASE) for p in data["self_id"]),
        registry_ids=tuple((re.compile(r["pattern"]), bool(r["bare"])) for r in data["registry_ids"]),
        org_words=frozenset(w.casefold() for w in data["organisation_words"]),
        degrees=frozenset(d.casefold() for d in data["degrees"]),
        link_words=frozenset(data["title_link_words"]),
        study_words=frozenset(data["title_study_words"]),
        enums={k: frozenset(v) for k, v in model.items() if isinstance(v, list)},
    )


@functools.lru_cache(maxsize=8192)
def lookup(label: str) -> tuple[str, str, str | None] | None:
    """('field' | 'attr', name, qualifier) for a label text, or None when it is not a known label.

    A parenthesised or leading qualifier ("Enrollment (Anticipated)", "Estimated Enrollment")
    is dropped for the lookup and returned as the API v2 type it implies.
    """
    if len(label) > 90:
        return None
    vocab = vocabulary()
    qualifier = None
    for word in re.findall(r"\(([^)]*)\)", label.casefold()):
        qualifier = qualifier or vocab.qualifiers.get(word.strip())
    key = fold(re.sub(r"\((?!s\)|es\))[^)]*\)", " ", label))
    if key.endswith(" if you"):
        key = key[:-4]  # "You can take part if you:" introduces the same list as "You can take part if"
    hit = vocab.labels.get(key)
    if hit is None and " " in key:
        first, rest = key.split(" ", 1)
        if first in vocab.qualifiers:
            hit = vocab.labels.get(rest)
            qualifier = qualifier or vocab.qualifiers[first]
    return (hit[0], hit[1], qualifier) if hit else None
