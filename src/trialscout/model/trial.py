"""The trial model every source maps to and every later stage reads.

Enumerations use ClinicalTrials.gov API v2 spellings (``RECRUITING``, ``PHASE2``,
``INTERVENTIONAL``...) whatever the source format, so a filter means the same thing
for a record read from JSON, XML or a pasted page. Anything a source does not state
is ``None`` (or an empty list): never a made-up default.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, computed_field

NCT_ID = re.compile(r"^NCT\d{8}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Age(_Model):
    """An age bound as the record writes it, plus the same bound in years."""

    text: str
    years: float


class DatePoint(_Model):
    """A registry date kept at the precision the source gives ("2007-09" or "2007-09-14")."""

    date: str
    type: str | None = None  # ACTUAL or ESTIMATED


class Organization(_Model):
    name: str
    cls: str | None = Field(default=None, description="API v2 agency class: NIH, INDUSTRY, OTHER, FED, ...")


class Contact(_Model):
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    phone_ext: str | None = None
    email: str | None = None
    affiliation: str | None = None


class Location(_Model):
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    status: str | None = None
    contacts: list[Contact] = []
    lat: float | None = None
    lon: float | None = None
    geo_source: str | None = Field(
        default=None, description="'record' when the registry gave the point, 'gazetteer' when trialscout placed the city"
    )


class Arm(_Model):
    label: str
    type: str | None = None
    description: str | None = None
    interventions: list[str] = []


class Intervention(_Model):
    name: str
    type: str | None = None
    description: str | None = None
    other_names: list[str] = []
    arm_labels: list[str] = []


class Outcome(_Model):
    kind: str  # primary, secondary, other
    measure: str
    description: str | None = None
    time_frame: str | None = None


class MeshTerm(_Model):
    term: str
    id: str | None = None


class Reference(_Model):
    citation: str | None = None
    pmid: str | None = None
    type: str | None = None


class Eligibility(_Model):
    criteria: str | None = None
    sex: str | None = None  # ALL, FEMALE, MALE
    gender_based: bool | None = None
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    std_ages: list[str] = []  # CHILD, ADULT, OLDER_ADULT
    healthy_volunteers: bool | None = None
    study_population: str | None = None


class Design(_Model):
    allocation: str | None = None
    intervention_model: str | None = None
    primary_purpose: str | None = None
    masking: str | None = None
    who_masked: list[str] = []
    observational_model: str | None = None
    time_perspective: str | None = None


class FlowGroup(_Model):
    title: str
    started: int | None = None
    completed: int | None = None


class EventGroup(_Model):
    title: str
    serious_affected: int | None = None
    serious_at_risk: int | None = None
    other_affected: int | None = None
    other_at_risk: int | None = None
    deaths_affected: int | None = None


class Results(_Model):
    """A summary of posted results: enough to say what happened, not the full tables."""

    first_posted: str | None = None
    participant_flow: list[FlowGroup] = []
    adverse_events: list[EventGroup] = []
    primary_outcome_titles: list[str] = []


class Trial(_Model):
    id: str = Field(description="Stable trialscout id: the NCT id when there is one")
    nct_id: str | None = None
    org_study_id: str | None = None
    secondary_ids: list[str] = []
    aliases: list[str] = Field(default=[], description="Obsolete NCT ids that now point to this trial")
    source: str = Field(description="Where the record came from: ctgov-json, ctgov-xml, page")

    brief_title: str | None = None
    official_title: str | None = None
    acronym: str | None = None

    overall_status: str | None = None
    last_known_status: str | None = None
    why_stopped: str | None = None
    start_date: DatePoint | None = None
    primary_completion_date: DatePoint | None = None
    completion_date: DatePoint | None = None
    first_posted: DatePoint | None = None
    last_update_posted: DatePoint | None = None

    lead_sponsor: Organization | None = None
    collaborators: list[Organization] = []
    officials: list[Contact] = []
    central_contacts: list[Contact] = []

    brief_summary: str | None = None
    detailed_description: str | None = None
    conditions: list[str] = []
    keywords: list[str] = []
    condition_mesh: list[MeshTerm] = []
    condition_mesh_ancestors: list[MeshTerm] = []
    intervention_mesh: list[MeshTerm] = []
    intervention_mesh_ancestors: list[MeshTerm] = []

    study_type: str | None = None
    patient_registry: bool | None = None  # an observational study that is a patient registry
    phases: list[str] = []
    design: Design | None = None
    enrollment: int | None = None
    enrollment_type: str | None = None  # ACTUAL or ESTIMATED

    arms: list[Arm] = []
    interventions: list[Intervention] = []
    outcomes: list[Outcome] = []
    eligibility: Eligibility | None = None
    locations: list[Location] = []
    references: list[Reference] = []
    has_results: bool | None = None
    results: Results | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def title(self) -> str:
        """A title fit to display: some pasted or transcribed records have none."""
        return self.brief_title or self.official_title or self.acronym or f"Untitled trial ({self.id})"

    @property
    def last_update(self) -> str | None:
        return self.last_update_posted.date if self.last_update_posted else None


def is_nct_id(value: str | None) -> bool:
    return bool(value and NCT_ID.match(value))
