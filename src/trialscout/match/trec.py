"""TREC Clinical Trials (2021) evaluation: topics and qrels in, runs over one store, standard measures out.

A topic is a free-text patient note; a qrels grade is 0 (not relevant), 1 (excluded) or 2 (eligible).
Rankings of the trials in the store are built for every topic:

* ``bm25``: a plain BM25 baseline (``bm25s``, Lucene variant) over the whole note, indexing the title,
  conditions, interventions, keywords, brief summary and eligibility criteria of every stored trial;
* ``trialscout``: the note read as a patient (``patient_from_note``); relevance from reciprocal rank fusion
  of the store's own search over the patient's conditions and two BM25 searches of the note (see
  ``trialscout_ranking``); the best candidates checked by the matcher (and the trials' structured sex and
  age limits), and relevance discounted for an ineligible verdict (such trials sink, they are not cut);
* ``trialscout_relevance_only``: the same relevance without the verdict, to show what the verdict adds.

The store seldom holds every judged trial (the shared XML sample holds a few per topic), so every run is
scored on *condensed lists*: unjudged trials are dropped from each ranking before scoring, and the qrels are
restricted to the trials in the store. Measures come from ``ir_measures``: nDCG@10 with graded gains (0, 1,
2), and P@10 and R@100 with eligible (grade 2) as relevant. Topics without an eligible judged trial in the
store are left out (their P and R are undefined). No judgement is used in ranking.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from trialscout.criteria import criteria_for, studied_conditions
from trialscout.patients import Patient, patient_from_note
from trialscout.store import Filters, search

from .evaluate import match_criteria
from .rank import patient_query

__all__ = ["BM25_FIELDS", "DEPTH", "MEASURES", "TOPICAL_FIELDS", "Bm25Index", "TrecInputError", "TrecReport",
           "align_qrels", "condense", "evaluate_runs", "load_benchmark", "read_qrels", "read_topics", "run_trec",
           "score_run", "trialscout_ranking"]

DEPTH = 1000  # trials ranked per topic, before condensing
BM25_FIELDS = ("title", "conditions", "interventions", "keywords", "summary", "criteria")
GRADES = {0: "not relevant", 1: "excluded", 2: "eligible"}

Run = dict[str, dict[str, float]]  # topic -> trial -> score (higher first)
Qrels = dict[str, dict[str, int]]  # topic -> trial -> grade


class TrecInputError(ValueError):
    """Topics or qrels that cannot be read; the message names the file (and line) and is for the user."""


# ---------------------------------------------------------------------------------------------- input

def _text_file(path: Path, what: str) -> str:
    path = Path(path)
    if not path.exists():
        raise TrecInputError(f"{path}: no such {what} file")
    if not path.is_file():
        raise TrecInputError(f"{path}: not a file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TrecInputError(f"{path}: not UTF-8 text ({what} file expected): {exc.reason} at byte {exc.start}") \
            from None
    except OSError as exc:
        raise TrecInputError(f"{path}: cannot read: {exc.strerror or exc}") from None


@dataclass
class Topics:
    notes: dict[str, str]  # topic number/id -> patient note
    year: str | None = None  # from <topics task="2021 ...">, to align qrels ids like "trec-20211"


def read_topics(path: Path) -> Topics:
    """TREC topics XML (``<topics><topic number="1">note</topic>...``) or BEIR queries JSONL
    (``{"_id": ..., "text": ...}`` per line, chosen by a .jsonl/.json suffix)."""
    path = Path(path)
    text = _text_file(path, "topics")
    if path.suffix.lower() in (".jsonl", ".json"):
        return _read_topics_jsonl(path, text)
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None) or (exc.position[0] if getattr(exc, "position", None) else None)
        where = f":{line}" if line else ""
        raise TrecInputError(f"{path}{where}: not TREC topics XML ({exc.msg if hasattr(exc, 'msg') else exc})") \
            from None
    if root.tag != "topics":
        raise TrecInputError(f"{path}:{root.sourceline}: expected a <topics> root element, found <{root.tag}>")
    notes: dict[str, str] = {}
    for el in root:
        if not isinstance(el.tag, str):
            continue  # comments, processing instructions
        if el.tag != "topic":
            raise TrecInputError(f"{path}:{el.sourceline}: expected <topic>, found <{el.tag}>")
        number = (el.get("number") or "").strip()
        if not number:
            raise TrecInputError(f"{path}:{el.sourceline}: <topic> without a number attribute")
        if number in notes:
            raise TrecInputError(f"{path}:{el.sourceline}: topic {number} appears twice")
        note = " ".join("".join(el.itertext()).split())
        if not note:
            raise TrecInputError(f"{path}:{el.sourceline}: topic {number} has no text")
        notes[number] = note
    if not notes:
        raise TrecInputError(f"{path}: no <topic> elements")
    year = re.search(r"\b(\d{4})\b", root.get("task") or "")
    return Topics(notes, year.group(1) if year else None)


def _read_topics_jsonl(path: Path, text: str) -> Topics:
    notes: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrecInputError(f"{path}:{n}: not a JSON object ({exc.msg})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("_id"), str) or not isinstance(obj.get("text"), str):
            raise TrecInputError(f'{path}:{n}: expected {{"_id": "...", "text": "..."}}')
        if obj["_id"] in notes:
            raise TrecInputError(f"{path}:{n}: topic {obj['_id']} appears twice")
        notes[obj["_id"]] = " ".join(obj["text"].split())
    if not notes:
        raise TrecInputError(f"{path}: no topics")
    return Topics(notes)


def read_qrels(path: Path) -> Qrels:
    """BEIR ``query-id<TAB>corpus-id<TAB>score`` (header optional) or TREC ``topic 0 trial grade`` lines.
    Grades must be 0, 1 or 2."""
    path = Path(path)
    text = _text_file(path, "qrels")
    qrels: Qrels = {}
    seen: dict[tuple[str, str], int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        parts = [p.strip() for p in parts]
        if len(parts) == 3:
            topic, trial, grade = parts
        elif len(parts) == 4:
            topic, _, trial, grade = parts
        else:
            raise TrecInputError(f"{path}:{n}: expected 3 fields (topic, trial, grade) or 4 (topic, 0, trial, "
                                 f"grade), found {len(parts)}")
        if not seen and n == 1 and not re.fullmatch(r"-?\d+", grade):
            continue  # header line ("query-id corpus-id score")
        if not re.fullmatch(r"-?\d+", grade) or int(grade) not in GRADES:
            raise TrecInputError(f"{path}:{n}: grade {grade!r} is not 0, 1 or 2")
        if not topic or not trial:
            raise TrecInputError(f"{path}:{n}: empty topic or trial id")
        trial = trial.upper()
        if (topic, trial) in seen:
            raise TrecInputError(f"{path}:{n}: {topic} {trial} already judged on line {seen[(topic, trial)]}")
        seen[(topic, trial)] = n
        qrels.setdefault(topic, {})[trial] = int(grade)
    if not qrels:
        raise TrecInputError(f"{path}: no judgements")
    return qrels


_TREC_ID = re.compile(r"trec-?(\d{4})-?(\d+)", re.IGNORECASE)


def align_qrels(topics: Topics, qrels: Qrels, qrels_name: str = "qrels") -> Qrels:
    """Qrels keyed by the topics' own ids. The 2021 qrels name topic 1 "trec-20211" (prefix + year +
    number); exact ids are used as they are."""
    out: Qrels = {}
    for qid, judged in qrels.items():
        key = qid if qid in topics.notes else None
        if key is None and (m := _TREC_ID.fullmatch(qid)) and (topics.year in (None, m.group(1))):
            key = m.group(2) if m.group(2) in topics.notes else None
        if key is not None:
            out.setdefault(key, {}).update(judged)
    if not out:
        raise TrecInputError(f"{qrels_name}: none of its topic ids ({', '.join(list(qrels)[:3])}, ...) is a topic "
                             "of the topics file")
    return out


# ------------------------------------------------------------------------------------------ the runs

def _s_stem(word: str) -> str:
    """Harman's S-stemmer: plural endings only, so 'tumors' meets 'tumor' (no PyStemmer dependency)."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def _stem_words(words: list[str]) -> list[str]:
    return [_s_stem(w) for w in words]


class Bm25Index:
    """bm25s (Lucene BM25, k1 1.2, b 0.75) over some FTS fields of every trial in the store, concatenated;
    lowercase, English stop words removed, plural endings stripped."""

    def __init__(self, conn: sqlite3.Connection, fields: tuple[str, ...] = BM25_FIELDS) -> None:
        import bm25s

        self.fields = fields
        rows = conn.execute(f"SELECT t.id, {', '.join('f.' + c for c in fields)} FROM trials_fts f "
                            f"JOIN trials t ON t.rowid = f.rowid ORDER BY t.id").fetchall()
        self.ids = [r[0] for r in rows]
        self._bm25s = bm25s
        self.model = None
        if not rows:
            return
        docs = ["\n".join(x or "" for x in r[1:]) for r in rows]
        tokens = bm25s.tokenize(docs, stopwords="en", stemmer=_stem_words, show_progress=False)
        self.model = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
        self.model.index(tokens, show_progress=False)
        self.vocab = tokens.vocab

    def rank(self, text: str, k: int = DEPTH) -> list[tuple[str, float]]:
        """Trials by descending BM25 score for the words of ``text`` (those with a score above 0, at most k)."""
        if self.model is None:
            return []
        words = self._bm25s.tokenize([text], stopwords="en", stemmer=_stem_words, return_ids=False,
                                     show_progress=False)[0]
        ids = [self.vocab[w] for w in words if w in self.vocab]
        if not ids:
            return []
        q = self._bm25s.tokenization.Tokenized(ids=[ids], vocab=self.vocab)
        docs, scores = self.model.retrieve(q, k=min(k, len(self.ids)), show_progress=False, n_threads=1)
        return [(self.ids[d], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


# trialscout's relevance: reciprocal rank fusion (Cormack et al. 2009) of three lists. The patient's
# conditions (store search, the lists of all conditions fused into one) weigh as much as the note's words,
# which are searched twice with BM25: over what a trial is about (title, conditions, keywords, MeSH terms)
# and over its whole text (the baseline's index), whose long criteria sections match any clinical note.
TOPICAL_FIELDS = ("title", "conditions", "keywords", "mesh")
SOURCE_WEIGHT = {"conditions": 2.0, "note_topical": 1.0, "note_full": 1.0}
RRF_K = 60
CONDITION_POOL = 100  # store search hits per patient condition
MAX_CONDITIONS = 8
# The verdict discounts relevance instead of ordering strictly by verdict: the qrels grade an excluded
# trial above an unrelated one, and an "eligible" verdict on a trial about another disease is worth nothing.
# A trial whose structured sex or age limits exclude the patient counts as ineligible.
VERDICT_WEIGHT = {"eligible": 1.0, "possibly_eligible": 1.0, "ineligible": 0.5}
MATCH_DEPTH = 100  # the best fused candidates are checked by the matcher; the rest follow them, unchecked


def _demographics_exclude(conn: sqlite3.Connection, ids: list[str], patient: Patient, as_of: dt.date) -> set[str]:
    """Trials whose structured sex or age limits rule the patient out (the criteria text often omits them)."""
    age, sex = patient.age_on(as_of), patient.sex.upper() if patient.sex else None
    if age is None and sex is None:
        return set()
    out = set()
    q = "SELECT id, sex, min_age_years, max_age_years FROM trials WHERE id IN (SELECT value FROM json_each(?))"
    for ident, tsex, lo, hi in conn.execute(q, (json.dumps(ids),)):
        wrong_sex = bool(sex) and tsex in ("MALE", "FEMALE") and tsex != sex
        if wrong_sex or (age is not None and ((lo is not None and age < lo) or (hi is not None and age > hi))):
            out.add(ident)
    return out


@dataclass
class Ranked:
    scores: dict[str, float]  # the ranking: relevance discounted by verdict
    relevance: dict[str, float]  # fused relevance alone (for the ablation run)
    verdicts: dict[str, str] = field(default_factory=dict)  # of the MATCH_DEPTH checked trials
    conditions: list[str] = field(default_factory=list)


def _rrf(fused: dict[str, float], ranked: Iterable[str], weight: float) -> None:
    for r, ident in enumerate(ranked):
        fused[ident] = fused.get(ident, 0.0) + weight / (RRF_K + r + 1)


def trialscout_ranking(conn: sqlite3.Connection, note: str, as_of: dt.date, full: Bm25Index | None = None,
                       topical: Bm25Index | None = None, depth: int = DEPTH) -> Ranked:
    """trialscout's ranking of the store for one patient note (see the comments above)."""
    patient = patient_from_note(note)
    conditions = patient_query(patient)[:MAX_CONDITIONS]
    lists = [[h.id for h in search(conn, c, Filters(), limit=CONDITION_POOL).hits] for c in conditions]
    lists = [hits for hits in lists if hits]
    fused: dict[str, float] = {}
    for hits in lists:  # a trial for any of the conditions is a candidate; sqrt damps many-condition notes
        _rrf(fused, hits, SOURCE_WEIGHT["conditions"] / len(lists) ** 0.5)
    for name, index in (("note_topical", topical), ("note_full", full)):
        if index is not None:
            _rrf(fused, (i for i, _ in index.rank(note, depth)), SOURCE_WEIGHT[name])
    order = sorted(fused, key=lambda i: (-fused[i], i))[:depth]
    checked = order[:MATCH_DEPTH]
    excluded = _demographics_exclude(conn, checked, patient, as_of)
    verdicts = {i: "ineligible" if i in excluded else
                match_criteria(i, criteria_for(conn, i) or [], patient, as_of,
                               studied=studied_conditions(conn, i)).verdict for i in checked}
    discounted = {i: fused[i] * VERDICT_WEIGHT[verdicts[i]] for i in checked}
    # Unchecked trials follow the checked ones (their verdict is unknown). Scores are rank-based so that the
    # evaluator, which breaks ties its own way, sees exactly this order.
    final = sorted(checked, key=lambda i: (-discounted[i], i)) + order[MATCH_DEPTH:]
    return Ranked({i: float(len(final) - k) for k, i in enumerate(final)},
                  {i: float(len(order) - k) for k, i in enumerate(order)}, verdicts, conditions)


# ------------------------------------------------------------------------------------------- scoring

def condense(run: Run, qrels: Qrels) -> Run:
    """Drop from each topic's ranking the trials with no judgement for that topic."""
    return {q: {d: s for d, s in docs.items() if d in qrels.get(q, {})} for q, docs in run.items()}


MEASURES = ("nDCG@10", "P(rel=2)@10", "R(rel=2)@100")
LABELS = {"nDCG@10": "ndcg@10", "P(rel=2)@10": "p@10", "R(rel=2)@100": "recall@100"}


def score_run(run: Run, qrels: Qrels) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Mean and per-topic measures of an already condensed run; every topic of ``qrels`` counts (a topic
    the run left empty scores 0)."""
    import ir_measures

    measures = [ir_measures.parse_measure(m) for m in MEASURES]
    qrels_list = [ir_measures.Qrel(q, d, g) for q, docs in qrels.items() for d, g in docs.items()]
    run_list = [ir_measures.ScoredDoc(q, d, s) for q, docs in run.items() if q in qrels for d, s in docs.items()]
    per: dict[str, dict[str, float]] = {q: {LABELS[m]: 0.0 for m in MEASURES} for q in qrels}
    for m in ir_measures.iter_calc(measures, qrels_list, run_list):
        per[m.query_id][LABELS[str(m.measure)]] = float(m.value)
    mean = {LABELS[m]: (sum(p[LABELS[m]] for p in per.values()) / len(per) if per else math.nan) for m in MEASURES}
    return mean, per


@dataclass
class TrecReport:
    store_trials: int
    topics: int
    scored_topics: int
    judged_in_store: int
    judged: int
    grades_in_store: dict[str, int]
    runs: dict[str, dict[str, float]]  # run -> measure -> mean
    per_topic: dict[str, dict[str, dict[str, float]]]  # run -> topic -> measure -> value
    condensed_lengths: dict[str, float]  # run -> mean judged trials per condensed ranking
    seconds: float
    notes: list[str]

    def ratio(self, measure: str = "ndcg@10") -> float | None:
        base = self.runs["bm25"][measure]
        return self.runs["trialscout"][measure] / base if base else None

    def as_dict(self) -> dict:
        return {"evaluation": "condensed lists: unjudged trials dropped from each ranking; qrels restricted to "
                              "trials in the store",
                "measures": {"ndcg@10": "nDCG@10, gains 0/1/2 (not relevant/excluded/eligible)",
                             "p@10": "P@10, eligible (grade 2) relevant",
                             "recall@100": "R@100, eligible (grade 2) relevant"},
                "store_trials": self.store_trials, "topics": self.topics, "scored_topics": self.scored_topics,
                "judged_trials": self.judged, "judged_trials_in_store": self.judged_in_store,
                "judgements_in_store": self.grades_in_store, "depth": DEPTH,
                "bm25_fields": list(BM25_FIELDS),
                "trialscout": {"sources": SOURCE_WEIGHT, "topical_fields": list(TOPICAL_FIELDS),
                               "verdict_weight": VERDICT_WEIGHT, "checked_per_topic": MATCH_DEPTH},
                "runs": self.runs,
                "ndcg@10_ratio": self.ratio(), "condensed_length": self.condensed_lengths,
                "per_topic": self.per_topic, "seconds": round(self.seconds, 1), "notes": self.notes}


def evaluate_runs(runs: dict[str, Run], qrels: Qrels) -> tuple[dict, dict]:
    means, per = {}, {}
    for name, run in runs.items():
        means[name], per[name] = score_run(condense(run, qrels), qrels)
    return means, per


def load_benchmark(topics_path: Path, qrels_path: Path) -> tuple[Topics, Qrels]:
    """Topics and qrels, the qrels keyed by the topics' ids; TrecInputError names the bad file and line."""
    topics = read_topics(topics_path)
    return topics, align_qrels(topics, read_qrels(qrels_path), str(qrels_path))


def run_trec(conn: sqlite3.Connection, topics: Topics, qrels: Qrels, *, as_of: dt.date | None = None,
             progress: Callable[[int, int], None] | None = None) -> TrecReport:
    """Both runs for every topic with an eligible judged trial in the store, scored on condensed lists."""
    started = time.monotonic()
    in_store = {r[0] for r in conn.execute("SELECT id FROM trials")}
    judged = {d for docs in qrels.values() for d in docs}
    store_qrels = {q: {d: g for d, g in docs.items() if d in in_store} for q, docs in qrels.items()}
    scored = {q: docs for q, docs in store_qrels.items() if any(g == 2 for g in docs.values())}
    if not scored:
        raise TrecInputError(f"no topic has an eligible (grade 2) judged trial among the {len(in_store)} trials "
                             "in the store: ingest the trials the qrels judge")
    grades = {name: sum(g == grade for docs in store_qrels.values() for g in docs.values())
              for grade, name in GRADES.items()}
    as_of = as_of or dt.date.today()
    full, topical = Bm25Index(conn, BM25_FIELDS), Bm25Index(conn, TOPICAL_FIELDS)
    runs: dict[str, Run] = {"trialscout": {}, "bm25": {}, "trialscout_relevance_only": {}}
    order = [q for q in topics.notes if q in scored]
    for n, q in enumerate(order, 1):
        note = topics.notes[q]
        runs["bm25"][q] = dict(full.rank(note, DEPTH))
        ranked = trialscout_ranking(conn, note, as_of, full, topical)
        runs["trialscout"][q] = ranked.scores
        runs["trialscout_relevance_only"][q] = ranked.relevance
        if progress:
            progress(n, len(order))
    means, per = evaluate_runs(runs, scored)
    lengths = {name: sum(len(v) for v in condense(run, scored).values()) / len(scored) for name, run in runs.items()}
    notes = [(f"condensed lists: the store holds {len(judged & in_store)} of the {len(judged)} judged trials; "
              "unjudged trials are dropped from each ranking and the qrels are restricted to stored trials "
              "before scoring"),
             f"{len(scored)} of {len(topics.notes)} topics scored (those with an eligible judged trial in the store)"]
    return TrecReport(store_trials=len(in_store), topics=len(topics.notes), scored_topics=len(scored),
                      judged_in_store=len(judged & in_store), judged=len(judged), grades_in_store=grades,
                      runs=means, per_topic=per, condensed_lengths=lengths, seconds=time.monotonic() - started,
                      notes=notes)
