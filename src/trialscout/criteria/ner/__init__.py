"""Entity recognizer for eligibility criteria, trained on the Chia corpus and shipped in ``model/``.

Recognises Condition, Drug, Procedure, Measurement, Value, Temporal and Person spans. Criteria are
line based and the model was trained one line at a time, so texts are split into lines here too and the
offsets mapped back to the original text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .chia import TARGET_TYPES, lines

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = ["Entity", "TARGET_TYPES", "find_entities", "load_model", "model_path"]


@dataclass(frozen=True, slots=True)
class Entity:
    label: str
    start: int  # character offsets into the text passed to find_entities
    end: int
    text: str


def model_path() -> Path:
    return Path(str(resources.files(__package__) / "model"))


@functools.lru_cache(maxsize=1)
def load_model() -> Language:
    import spacy  # slow import: only when the recognizer is needed

    from . import marks  # noqa: F401  (registers the trialscout_lexicon_marks component the model runs)

    path = model_path()
    if not (path / "meta.json").is_file():
        raise RuntimeError(f"the entity recognizer model is missing: {path} (retrain with "
                           "python -m trialscout.criteria.ner.train)")
    return spacy.load(path)


def predict(nlp: Language, texts: list[str], batch_size: int = 64) -> list[list[Entity]]:
    """Entities of each text with a given pipeline (used by training too, so both see the same lines)."""
    where = [(i, s, e) for i, text in enumerate(texts) for s, e in lines(text)]
    out: list[list[Entity]] = [[] for _ in texts]
    docs = nlp.pipe((texts[i][s:e] for i, s, e in where), batch_size=batch_size)
    for (i, s, _), doc in zip(where, docs):
        out[i].extend(Entity(ent.label_, s + ent.start_char, s + ent.end_char, ent.text) for ent in doc.ents
                      if ent.label_ in TARGET_TYPES)  # a model may be trained with auxiliary labels too
    return out


def find_entities(texts: list[str], batch_size: int = 64) -> list[list[Entity]]:
    """One list of entities (in text order) per input text."""
    return predict(load_model(), texts, batch_size)
