"""Write docs/patient-profile.schema.json from the profile models (run after changing them)."""

from __future__ import annotations

import json
from pathlib import Path

from trialscout.patients.profile import profile_json_schema

OUT = Path(__file__).resolve().parents[1] / "docs" / "patient-profile.schema.json"

if __name__ == "__main__":
    OUT.write_text(json.dumps(profile_json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
