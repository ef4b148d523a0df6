"""Synthetic patients for the matching benchmarks: varied, plausible, deterministic for a seed.

Not clinical data: each patient is an age, a sex, one to three common conditions, a few medications,
labs in plausible ranges and sometimes an ECOG score, built as a simple profile and read by the real
profile loader, so every fact is shaped like a user's.
"""

from __future__ import annotations

import random

from trialscout.patients import Patient, patient_from_profile

CONDITIONS = [
    "breast cancer", "type 2 diabetes", "hypertension", "asthma", "heart failure", "rheumatoid arthritis",
    "major depressive disorder", "non-small cell lung cancer", "prostate cancer", "chronic kidney disease",
    "obesity", "chronic obstructive pulmonary disease", "HIV infection", "atrial fibrillation",
    "multiple sclerosis", "psoriasis", "dermatomyositis", "colorectal cancer", "schizophrenia", "stroke",
    "hepatitis C", "osteoarthritis", "migraine", "systemic lupus erythematosus",
]
MEDICATIONS = [
    ("metformin", 1000, "mg", "twice daily"), ("lisinopril", 10, "mg", "daily"), ("atorvastatin", 20, "mg", "daily"),
    ("prednisone", 10, "mg", "daily"), ("methotrexate", 15, "mg", "weekly"), ("aspirin", 81, "mg", "daily"),
    ("warfarin", 5, "mg", "daily"), ("adalimumab", 40, "mg", "every 2 weeks"), ("levothyroxine", 50, "ug", "daily"),
    ("sertraline", 50, "mg", "daily"), ("tamoxifen", 20, "mg", "daily"), ("apixaban", 5, "mg", "twice daily"),
]
LABS = [  # name, unit, low, high
    ("hemoglobin", "g/dL", 8.5, 16.5), ("platelet count", "1e9/L", 60, 450),
    ("absolute neutrophil count", "1e9/L", 0.8, 7.5), ("serum creatinine", "mg/dL", 0.5, 2.8),
    ("estimated glomerular filtration rate", "mL/min/1.73m2", 15, 120), ("alanine aminotransferase", "U/L", 8, 150),
    ("total bilirubin", "mg/dL", 0.2, 3.0), ("hemoglobin A1c", "%", 4.8, 11.5),
]


def synthetic_profile(rng: random.Random) -> dict:
    profile: dict = {"age": rng.randint(18, 85), "sex": rng.choice(["female", "male"]), "consent": True}
    profile["conditions"] = [{"name": c, "active": True} for c in rng.sample(CONDITIONS, rng.randint(1, 3))]
    profile["medications"] = [{"name": n, "dose": d, "unit": u, "frequency": f}
                              for n, d, u, f in rng.sample(MEDICATIONS, rng.randint(0, 3))]
    profile["labs"] = [{"name": n, "value": round(rng.uniform(lo, hi), 1), "unit": u}
                       for n, u, lo, hi in rng.sample(LABS, rng.randint(2, 6))]
    if rng.random() < 0.4:
        profile["scores"] = [{"name": "ECOG performance status", "value": rng.randint(0, 3)}]
    if profile["sex"] == "female" and profile["age"] < 50 and rng.random() < 0.1:
        profile["pregnant"] = True
    return profile


def synthetic_patients(n: int, seed: int = 0) -> list[Patient]:
    rng = random.Random(seed)
    return [patient_from_profile({**synthetic_profile(rng)}, f"synthetic-{seed}-{i}") for i in range(n)]
