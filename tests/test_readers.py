"""Every input shape ClinicalTrials.gov produces, and the bad inputs people actually have."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile

import pytest

from conftest import API_SAMPLE, RESULTS_STUDY, SEEDS, XML_ZIP, need_shared
from trialscout.model import Trial
from trialscout.sources import RecordError, read_path, read_paths


def split(items):
    items = list(items)
    return [i for i in items if isinstance(i, Trial)], [i for i in items if isinstance(i, RecordError)]


@pytest.fixture(scope="module")
def studies():
    need_shared()
    return json.loads(API_SAMPLE.read_bytes())


def test_website_export_array_loads_all_251(studies):
    trials, errors = split(read_path(API_SAMPLE))
    assert errors == []
    assert len(trials) == 251
    assert [t.nct_id for t in trials] == [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]


def test_single_study_object_with_results():
    need_shared()
    trials, errors = split(read_path(RESULTS_STUDY))
    assert errors == [] and len(trials) == 1
    t = trials[0]
    assert t.id == "NCT02513394" and t.has_results is True
    assert t.results is not None and t.results.participant_flow
    assert t.secondary_ids and "ABCSG 42" in t.secondary_ids


def test_api_page_with_next_token_and_json_lines_and_gzip(tmp_path, studies):
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"studies": studies[:30], "nextPageToken": "abc"}))
    token_last = tmp_path / "page2.json"
    token_last.write_text(json.dumps({"totalCount": 2, "studies": studies[30:32]}))
    lines = tmp_path / "studies.jsonl"
    lines.write_text("\n".join(json.dumps(s) for s in studies[:5]) + "\n")
    gz = tmp_path / "export.json.gz"
    gz.write_bytes(gzip.compress(json.dumps(studies[:7]).encode()))
    for path, expected in ((page, 30), (token_last, 2), (lines, 5), (gz, 7)):
        trials, errors = split(read_path(path))
        assert errors == [], path
        assert len(trials) == expected, path


def test_seed_trials_without_nct_id_or_title_load():
    need_shared()
    trials, errors = split(read_path(SEEDS))
    assert errors == [] and len(trials) == 7
    by_id = {t.id: t for t in trials}
    lenalidomide = by_id["SEED-LENALIDOMIDE-CDM"]
    assert lenalidomide.nct_id is None
    assert "Lenalidomide" in lenalidomide.title
    untitled = by_id["NCT04966884"]
    assert untitled.brief_title is None and untitled.official_title is None
    assert untitled.title == "Untitled trial (NCT04966884)"


def test_markdown_escapes_are_removed_from_api_text(studies):
    trials, _ = split(read_path(API_SAMPLE))
    first = next(t for t in trials if t.nct_id == "NCT00576225")
    assert "estradiol >25 pg/mL" in first.eligibility.criteria
    assert "\\>" not in first.eligibility.criteria


def test_xml_single_file_directory_and_zip(tmp_path):
    need_shared()
    folder = tmp_path / "xml" / "NCT0000xxxx"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(XML_ZIP) as z:
        for name in ("NCT0000xxxx/NCT00001261.xml", "NCT0000xxxx/NCT00001265.xml"):
            (folder / name.split("/")[1]).write_bytes(z.read(name))
    trials, errors = split(read_path(folder / "NCT00001261.xml"))
    assert errors == [] and [t.id for t in trials] == ["NCT00001261"]
    trials, errors = split(read_path(tmp_path / "xml"))
    assert errors == [] and sorted(t.id for t in trials) == ["NCT00001261", "NCT00001265"]


def test_sites_without_geopoint_get_gazetteer_coordinates(studies):
    trials, _ = split(read_path(XML_ZIP))
    bethesda = [loc for t in trials for loc in t.locations if loc.city == "Bethesda" and loc.state == "Maryland"]
    assert bethesda and all(loc.geo_source == "gazetteer" for loc in bethesda)
    assert abs(bethesda[0].lat - 38.98) < 0.1 and abs(bethesda[0].lon + 77.1) < 0.1
    api, _ = split(read_path(API_SAMPLE))
    from_record = [loc for t in api for loc in t.locations if loc.geo_source == "record"]
    raw_points = [loc for s in studies for loc in s["protocolSection"].get("contactsLocationsModule", {})
                  .get("locations", []) if "geoPoint" in loc]
    assert len(from_record) == len(raw_points) > 1000


# --- bad input -------------------------------------------------------------------------------


def test_malformed_json_mid_array_keeps_the_records_before_it(tmp_path, studies):
    text = json.dumps(studies[:3])
    cut = text.index('{"protocolSection"', len(json.dumps(studies[:2])) - 5)
    bad = tmp_path / "broken.json"
    bad.write_text(text[:cut] + '{"protocolSection": {"identificationModule": {"nctId": "NCT1"}, oops}]')
    trials, errors = split(read_path(bad))
    assert len(trials) == 2
    assert len(errors) == 1 and "broken.json" in str(errors[0]) and "after record 2" in errors[0].problem


def test_truncated_json_file(tmp_path, studies):
    bad = tmp_path / "truncated.json"
    data = json.dumps(studies[:10]).encode()
    bad.write_bytes(data[: len(data) // 2])
    trials, errors = split(read_path(bad))
    assert 0 < len(trials) < 10
    assert "truncated" in errors[0].problem


def test_records_missing_required_fields_are_skipped_with_their_origin(tmp_path, studies):
    mixed = [studies[0], {"hasResults": False}, {"protocolSection": {"statusModule": {}}}, studies[1]]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(mixed))
    trials, errors = split(read_path(path))
    assert len(trials) == 2
    assert [e.origin for e in errors] == [f"{path} record 2", f"{path} record 3"]
    assert "no protocolSection" in errors[0].problem
    assert "no id, org study id or title" in errors[1].problem


def test_non_utf8_json_and_xml(tmp_path):
    need_shared()
    latin = tmp_path / "latin1.json"
    latin.write_bytes('[{"protocolSection": {"identificationModule": {"nctId": "NCT00000001", '
                      '"briefTitle": "Étude"}}}]'.encode("latin-1"))
    trials, errors = split(read_path(latin))
    assert trials == [] and "UTF-8" in errors[0].problem
    with zipfile.ZipFile(XML_ZIP) as z:
        xml = z.read("NCT0000xxxx/NCT00001261.xml")
    bad_xml = tmp_path / "bad.xml"
    bad_xml.write_bytes(xml.replace(b"Inflammatory Myopathies</brief_title>", b"Myopathies \xe9\xff</brief_title>"))
    trials, errors = split(read_path(bad_xml))
    assert trials == [] and "bad.xml" in str(errors[0])


def test_truncated_zip_salvages_whole_members(tmp_path):
    need_shared()
    small = tmp_path / "small.zip"
    with zipfile.ZipFile(XML_ZIP) as src, zipfile.ZipFile(small, "w", zipfile.ZIP_DEFLATED) as dst:
        names = [n for n in src.namelist() if n.endswith(".xml")][:20]
        for name in names:
            dst.writestr(name, src.read(name))
    data = small.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    trials, errors = split(read_path(cut))
    assert 5 <= len(trials) < 20
    assert "truncated" in errors[0].problem
    assert {t.id for t in trials} <= {n.split("/")[1][:-4] for n in names}


def test_empty_missing_and_foreign_files(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("")
    text = tmp_path / "notes.json"
    text.write_text("hello")
    items = list(read_paths([empty, text, tmp_path / "nope.json"]))
    assert [str(i) for i in items] == [f"{empty}: file is empty",
                                       f"{text}: not a ClinicalTrials.gov record: expected JSON or XML",
                                       f"{tmp_path / 'nope.json'}: no such file or directory"]


def test_directory_mixing_formats(tmp_path, studies):
    need_shared()
    (tmp_path / "a.json").write_text(json.dumps(studies[0]))
    shutil.copy(SEEDS, tmp_path / "seeds.json")
    (tmp_path / "ignored.txt").write_text("not a record")
    trials, errors = split(read_path(tmp_path))
    assert errors == [] and len(trials) == 8


def test_progress_reports_bytes_for_files_and_records_for_zips():
    from trialscout.data import demo_corpus

    calls = []
    items = list(read_paths(demo_corpus(), lambda *args: calls.append(args)))
    assert all(isinstance(i, Trial) for i in items)
    by_unit = {}
    for label, done, total, unit in calls:
        by_unit.setdefault((label.rsplit("/", 1)[-1], unit), []).append((done, total))
    zip_calls = by_unit[("allpublicxml-demo.zip", "records")]
    assert zip_calls[-1] == (816, 816)
    gz_calls = by_unit[("ctgov-api-studies.json.gz", "bytes")]
    assert gz_calls[-1][0] == gz_calls[-1][1]  # the whole compressed file was read


def test_json_lines_with_a_record_longer_than_the_sniffed_head(tmp_path, studies):
    biggest = max(studies, key=lambda s: len(json.dumps(s)))
    assert len(json.dumps(biggest)) > 65536  # longer than the 64 KB read to sniff the format
    for name in ("export.txt", "export.jsonl"):
        path = tmp_path / name
        path.write_text(json.dumps(biggest) + "\n" + json.dumps(studies[0]) + "\n")
        trials, errors = split(read_path(path))
        assert errors == [] and len(trials) == 2, name
