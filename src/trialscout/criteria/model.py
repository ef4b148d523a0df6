"""The typed result of parsing a trial's eligibility text: criteria made of facts.

A criterion is one item of the registry's list (children of a "defined as:" parent are criteria with a
``parent``). Its facts are what a program can check: an age bound, a lab threshold, a drug with a dose
and a time window, a condition and its exceptions. A criterion with no facts is kept, typed
"unparsed", with its text: the matcher then answers "unknown" rather than guessing.

Offsets in facts, thresholds and windows index ``Criterion.text`` (the item's text with whitespace
collapsed); ``Criterion.start``/``end`` locate the item in the trial's original criteria text.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

FactKind = Literal[
    "age", "sex", "pregnancy", "breastfeeding", "contraception", "consent", "compliance", "language",
    "condition", "lab", "score", "drug", "drug_class", "procedure", "vaccine", "device",
]
Op = Literal["<", "<=", ">", ">=", "=", "between", "in"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Model):
    """``op value [unit]``; ``between`` uses ``value``..``high``; ``in`` lists allowed ``values``."""

    op: Op
    value: float
    high: float | None = None
    values: tuple[float, ...] | None = None
    unit: str | None = None
    relative_to: Literal["ULN", "LLN"] | None = None
    sex: Literal["male", "female"] | None = None
    scale_max: float | None = None
    alternative: bool = False  # same limit restated in other units, e.g. "(<= 26 umol/L)"
    # The limit in the concept's canonical unit (lexicon), converted with pint: "100,000/uL" for
    # platelets is 100 in 1e9/L. None when the text gives no unit or it cannot be converted.
    norm_value: float | None = None
    norm_high: float | None = None
    norm_unit: str | None = None
    start: int
    end: int


class Window(_Model):
    """A time window in days, e.g. "within 12 weeks prior to baseline" -> 84 days before baseline."""

    days: int
    relation: Literal["within", "at_least", "during"] = "within"
    anchor: str | None = None
    start: int
    end: int


class Fact(_Model):
    kind: FactKind
    concept: str | None = None  # canonical lexicon name; None for demographics described by value
    codes: dict[str, str] = Field(default_factory=dict)
    value: str | None = None  # sex, language, pregnancy status ...
    text: str
    start: int
    end: int
    thresholds: tuple[Threshold, ...] = ()
    window: Window | None = None
    exceptions: tuple[str, ...] = ()  # canonical names excepted ("other than basal cell carcinoma")
    negated: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False
    dose_change: bool = False  # "change in dose of X": the fact is about a dose change, not use
    # "uncontrolled hypertension", "severe renal impairment": the patient's record must say so too
    qualifier: str | None = None


class Criterion(_Model):
    id: int
    section: Literal["inclusion", "exclusion", "unknown"]
    text: str
    start: int
    end: int
    parent: int | None = None
    # "heading": a label over its children ("Hematopoietic:"); "note": says nothing to check ("Not
    # specified", "See Disease Characteristics"). Neither is a criterion a patient can meet or fail.
    role: Literal["criterion", "heading", "note"] = "criterion"
    # How this criterion's facts combine ("all" must hold, "any" one suffices), and how many of its
    # children must hold: None means all, 1 for "any 1 of the following".
    logic: Literal["all", "any", "if"] = "all"  # "if": the facts say whom the sub-items apply to
    min_count: int | None = None
    facts: tuple[Fact, ...] = ()
    # Meaningful words outside every fact's span: a high count means the facts are a partial reading.
    leftover: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind(self) -> str:
        """The criterion's type for reports: its first fact's kind, its role, or "unparsed"."""
        if self.facts:
            return self.facts[0].kind
        return self.role if self.role != "criterion" else "unparsed"
