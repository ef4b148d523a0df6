"""Outcome measures of dermatomyositis/myositis trials, computed exactly and never guessed.

- TIS: 2016 ACR/EULAR Total Improvement Score and response category (adult DM/PM, juvenile DM).
- CDASI: cutaneous activity (0-100) and damage (0-32).
- MMT-8: manual muscle testing totals on the 0-80 and 0-150 conventions.
- EASI-75 and IGA 0/1 responder flags.
- Cohort report: TIS responders at a chosen week, with a plot.

Self-contained: the clinical tables are data files in this package, and nothing here depends on
the rest of trialscout. Bad input raises ``MeasureError`` (a ``ValueError``) naming every
offending field.
"""

from .cdasi import CdasiResult, SiteScore, compute_cdasi
from .cohort import CohortReport, NotEvaluable, ParticipantOutcome, cohort_report, plot_report, read_visits
from .mmt8 import MUSCLES, Mmt8Result, compute_mmt8
from .responders import EasiResult, IgaResult, RespondersResult, compute_responders, easi75, iga_responder
from .tis import MEASURES, MeasureError, MeasureScore, TisResult, categorize, compute_tis

__all__ = [
    "MEASURES", "MUSCLES", "CdasiResult", "CohortReport", "EasiResult", "IgaResult", "MeasureError",
    "MeasureScore", "Mmt8Result", "NotEvaluable", "ParticipantOutcome", "RespondersResult", "SiteScore",
    "TisResult", "categorize", "cohort_report", "compute_cdasi", "compute_mmt8", "compute_responders",
    "compute_tis", "easi75", "iga_responder", "plot_report", "read_visits",
]
