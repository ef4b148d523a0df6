"""Rebuild the bundled demo corpus (src/trialscout/data/demo) from ../shared/data.

Run from the repo root: python scripts/build_demo_corpus.py [--shared ../shared]
The output is deterministic: same inputs, same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "trialscout" / "data" / "demo"
# Legacy XML trials kept for the demo: myositis first (the project's first community), then
# other immune-mediated skin, muscle and joint diseases whose patients meet the same drugs.
XML_TOPICS = re.compile(
    r"myositis|myopath|dermatomyositis|lupus|scleroderma|systemic sclerosis|sj[oö]gren|vasculitis|"
    r"rheumatoid|psoria|atopic dermatitis|juvenile arthritis|behcet|sarcoidosis|morphea",
    re.IGNORECASE)


def xml_selected(data: bytes) -> bool:
    text = data.decode("utf-8", "replace")
    fields = re.findall(r"<(?:condition|brief_title|keyword)>([^<]*)<", text)
    return any(XML_TOPICS.search(f) for f in fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    args = parser.parse_args()
    ctgov = args.shared / "data" / "ctgov"
    OUT.mkdir(parents=True, exist_ok=True)

    studies = json.loads((ctgov / "ctg-studies-sample.json").read_bytes())
    studies.append(json.loads((ctgov / "NCT02513394.json").read_bytes()))
    payload = json.dumps(studies, ensure_ascii=False, separators=(",", ":")).encode()
    with open(OUT / "ctgov-api-studies.json.gz", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write(payload)

    (OUT / "seed-trials.json").write_bytes((args.shared / "data" / "seed-trials" / "seed-trials.json").read_bytes())

    kept = 0
    with zipfile.ZipFile(ctgov / "AllPublicXML-sample.zip") as src, \
            zipfile.ZipFile(OUT / "allpublicxml-demo.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for index, name in enumerate(sorted(n for n in src.namelist() if n.endswith(".xml"))):
            data = src.read(name)
            # Every tenth other record too, so browsing and filters have some variety.
            if xml_selected(data) or index % 10 == 0:
                info = zipfile.ZipInfo(name, date_time=(2023, 2, 3, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(info, data)
                kept += 1
    print(f"{len(studies)} API v2 studies, seed trials, {kept} legacy XML trials -> {OUT}")


if __name__ == "__main__":
    main()
