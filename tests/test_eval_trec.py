"""`trialscout eval trec`: reading TREC CT topics and qrels, condensed lists, both runs on a real subset."""

from __future__ import annotations

import zipfile

import pytest
from typer.testing import CliRunner

from conftest import SHARED, XML_ZIP
from trialscout.cli import app
from trialscout.match.trec import (TOPICAL_FIELDS, Bm25Index, TrecInputError, align_qrels, condense, load_benchmark,
                                   read_qrels, read_topics, run_trec, score_run, trialscout_ranking)
from trialscout.sources.ctgov_xml import parse_xml_record
from trialscout.store import ingest, open_store

TREC = SHARED / "benchmarks" / "trec-ct-2021"
TOPICS, QRELS = TREC / "topics2021.xml", TREC / "qrels.tsv"
runner = CliRunner()

# Topic 1 (anaplastic astrocytoma) and topic 5: every trial of the XML sample judged for them (none of them
# judged eligible for another topic), plus trials no topic judges, which condensing must drop.
TOPIC_1 = ["NCT00002569", "NCT00002620", "NCT00002806", "NCT00002814", "NCT00003022", "NCT00003176",
           "NCT00003372", "NCT00003375", "NCT00003465", "NCT00003466", "NCT00003470", "NCT00003471",
           "NCT00003537", "NCT00003564", "NCT00003621", "NCT00003775", "NCT00003842", "NCT00004017",
           "NCT00004068", "NCT00004080", "NCT00004204", "NCT00004259", "NCT00004402", "NCT00004868",
           "NCT00005081", "NCT00005637", "NCT00005856", "NCT00005951", "NCT00006024", "NCT00006080",
           "NCT00006263", "NCT00006355", "NCT00006474", "NCT00006916", "NCT00007982"]
TOPIC_5 = ["NCT00000469", "NCT00004728", "NCT00004732", "NCT00005479", "NCT00497094", "NCT00498147"]


def need_trec() -> None:
    if not TOPICS.exists() or not QRELS.exists():
        pytest.skip("needs ../shared/benchmarks/trec-ct-2021 (TREC CT 2021 topics and qrels)")


def run(*args):
    return runner.invoke(app, ["eval", "trec", *(str(a) for a in args)])


def one_line_error(result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for part in parts:
        assert part in lines[0], lines[0]


# --------------------------------------------------------------------------- condensed lists, by hand

def test_condensing_drops_unjudged_trials_before_scoring():
    qrels = {"1": {"A": 2, "B": 0, "C": 1}}
    run_ = {"1": {"X": 9.0, "A": 8.0, "Y": 7.0, "C": 6.0, "B": 5.0, "Z": 4.0}}
    condensed = condense(run_, qrels)
    assert condensed == {"1": {"A": 8.0, "C": 6.0, "B": 5.0}}
    mean, _ = score_run(condensed, qrels)
    assert mean["ndcg@10"] == pytest.approx(1.0)  # judged trials in ideal order once unjudged ones are gone
    assert mean["p@10"] == pytest.approx(0.1)  # one eligible trial, cut-off 10
    assert mean["recall@100"] == pytest.approx(1.0)
    # Without condensing the unjudged X above A costs nDCG: the condensed score is what is reported.
    assert score_run(run_, qrels)[0]["ndcg@10"] < 1.0


def test_a_topic_the_run_misses_scores_zero():
    qrels = {"1": {"A": 2}, "2": {"B": 2}}
    mean, per = score_run({"1": {"A": 1.0}}, qrels)
    assert per["2"] == {"ndcg@10": 0.0, "p@10": 0.0, "recall@100": 0.0}
    assert mean["ndcg@10"] == pytest.approx(0.5)


def test_qrels_ids_like_trec_20211_are_aligned_to_topic_numbers(tmp_path):
    topics = tmp_path / "t.xml"
    topics.write_text('<topics task="2021 TREC Clinical Trials"><topic number="1">A 60-year-old man.</topic>'
                      '<topic number="11">A woman.</topic></topics>')
    qrels = tmp_path / "q.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\ntrec-20211\tnct01\t2\ntrec-202111\tNCT02\t1\n"
                     "trec-20229\tNCT03\t2\n")
    t, q = load_benchmark(topics, qrels)
    assert t.notes["1"] == "A 60-year-old man." and q == {"1": {"NCT01": 2}, "11": {"NCT02": 1}}
    trec_format = tmp_path / "q.txt"
    trec_format.write_text("1 0 NCT01 2\n11 0 NCT02 0\n")
    assert align_qrels(t, read_qrels(trec_format)) == {"1": {"NCT01": 2}, "11": {"NCT02": 0}}


# ------------------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("content, line, message", [
    ("query-id\tcorpus-id\tscore\ntrec-20211\tNCT01\t2\ntrec-20211 NCT02\n", 3, "expected 3 fields"),
    ("trec-20211\tNCT01\t2\ntrec-20211\tNCT02\teligible\n", 2, "grade 'eligible' is not 0, 1 or 2"),
    ("trec-20211\tNCT01\t2\ntrec-20211\tNCT01\t1\n", 2, "trec-20211 NCT01 already judged on line 1"),
])
def test_malformed_qrels_name_file_and_line(tmp_path, content, line, message):
    bad = tmp_path / "bad-qrels.tsv"
    bad.write_text(content)
    with pytest.raises(TrecInputError, match=f"bad-qrels.tsv:{line}: {message}"):
        read_qrels(bad)


def test_bad_input_gives_one_line_cli_errors_naming_the_file(tmp_path):
    topics = tmp_path / "topics.xml"
    topics.write_text('<topics><topic number="1">A 45-year-old man with glioma.</topic></topics>')
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("1\tNCT00002569\t2\n1\tNCT00002620\n")
    not_xml = tmp_path / "topics.txt"
    not_xml.write_text("1. A 45-year-old man with glioma.\n2. A woman with asthma.\n")
    db = tmp_path / "none.db"  # never reached: the inputs are read first
    one_line_error(run("--topics", topics, "--qrels", qrels, "--db", db), f"{qrels}:2:", "expected 3 fields")
    one_line_error(run("--topics", not_xml, "--qrels", qrels, "--db", db), f"{not_xml}:1:", "not TREC topics XML")
    missing = tmp_path / "missing.xml"
    one_line_error(run("--topics", missing, "--qrels", qrels, "--db", db), f"{missing}: no such topics file")
    one_line_error(run("--topics", topics, "--qrels", tmp_path / "nope.tsv", "--db", db),
                   f"{tmp_path / 'nope.tsv'}: no such qrels file")
    wrong_root = tmp_path / "other.xml"
    wrong_root.write_text("<clinical_study><topic number='1'>x</topic></clinical_study>\n")
    with pytest.raises(TrecInputError, match=r"other.xml:1: expected a <topics> root element"):
        read_topics(wrong_root)


# ------------------------------------------------------------------------------------- a real subset

@pytest.fixture(scope="module")
def subset_store(tmp_path_factory):
    need_trec()
    if not XML_ZIP.exists():
        pytest.skip(f"needs the shared XML sample ({XML_ZIP})")
    topics, qrels = load_benchmark(TOPICS, QRELS)
    judged = {d for docs in qrels.values() for d in docs}
    with zipfile.ZipFile(XML_ZIP) as z:
        names = {n.rsplit("/", 1)[-1][:-4]: n for n in z.namelist() if n.endswith(".xml")}
        unjudged = sorted(n for n in names if n not in judged)[:15]
        trials = [parse_xml_record(z.read(names[i]), names[i]) for i in [*TOPIC_1, *TOPIC_5, *unjudged]]
    path = tmp_path_factory.mktemp("trec") / "trec.db"
    conn = open_store(path)
    ingest(conn, trials)
    return conn, path, topics, qrels, set(unjudged)


def test_both_runs_on_a_real_subset(subset_store):
    conn, _, topics, qrels, _unjudged = subset_store
    report = run_trec(conn, topics, qrels)
    assert report.store_trials == 56 and report.judged_in_store == 41
    assert report.scored_topics == 2 and set(report.per_topic["bm25"]) == {"1", "5"}
    for name in ("trialscout", "bm25"):
        for value in report.runs[name].values():
            assert 0.0 <= value <= 1.0
        assert report.condensed_lengths[name] <= (35 + 6) / 2
    # The anaplastic astrocytoma note: trialscout's top judged trial is at least relevant (excluded or eligible).
    assert report.per_topic["trialscout"]["1"]["ndcg@10"] > 0
    data = report.as_dict()
    assert data["evaluation"].startswith("condensed lists") and data["judgements_in_store"]["eligible"] == 11
    assert any("condensed lists" in note for note in data["notes"])


def test_trialscout_ranking_has_no_ties_and_sinks_ineligible_trials(subset_store):
    import datetime as dt

    conn, _, topics, _, _ = subset_store
    ranked = trialscout_ranking(conn, topics.notes["1"], dt.date(2026, 1, 1), Bm25Index(conn),
                                Bm25Index(conn, TOPICAL_FIELDS))
    assert "anaplastic astrocytoma" in ranked.conditions
    # Rank-based scores: the evaluator, which breaks ties its own way, sees exactly trialscout's order.
    assert len(set(ranked.scores.values())) == len(ranked.scores) == len(ranked.relevance)
    order = sorted(ranked.scores, key=lambda i: -ranked.scores[i])
    checked = [i for i in order if i in ranked.verdicts]
    assert order[:len(checked)] == checked  # checked trials first, then the rest by relevance
    # Within the checked trials an ineligible one never passes a better-or-equally relevant one that is not.
    for a in checked:
        for b in checked:
            if ranked.verdicts[a] == "ineligible" and ranked.verdicts[b] != "ineligible" and \
                    ranked.relevance[b] >= ranked.relevance[a]:
                assert ranked.scores[b] > ranked.scores[a]


def test_cli_prints_both_runs_and_says_lists_are_condensed(subset_store):
    _, path, *_ = subset_store
    result = run("--topics", TOPICS, "--qrels", QRELS, "--db", path)
    assert result.exit_code == 0, result.output
    assert "condensed lists" in result.stdout and "trialscout" in result.stdout and "bm25" in result.stdout
    assert "nDCG@10" in result.stdout and "recall@100" in result.stdout
