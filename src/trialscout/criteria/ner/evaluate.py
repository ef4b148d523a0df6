"""Span-level scores for entity recognition: exact and overlapping match, per type and micro-averaged."""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from typing import Any

from .chia import TARGET_TYPES, ChiaDoc

Span = tuple[str, int, int]  # (label, start, end)
_TRIM = string.whitespace + string.punctuation


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop surrounding whitespace and punctuation, so "cancer," and "cancer" match exactly."""
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return start, end


def _spans(items: Iterable[Any]) -> list[Span]:
    # Accept Entity objects or (label, start, end) tuples.
    return [(s.label, s.start, s.end) if hasattr(s, "label") else (s[0], s[1], s[2]) for s in items]


def _match(gold: list[Span], pred: list[Span], overlap: bool) -> int:
    """True positives under one-to-one matching: each gold and each predicted span is used at most once.

    Greedy: for each prediction (in text order) the unused gold span of the same label that overlaps it
    most is taken. Exact matching is trivially one-to-one on de-duplicated spans.
    """
    if not overlap:
        return len(set(gold) & set(pred))
    used: set[int] = set()
    tp = 0
    for label, ps, pe in sorted(pred, key=lambda s: (s[1], s[2])):
        best, best_len = -1, 0
        for i, (gl, gs, ge) in enumerate(gold):
            olen = min(pe, ge) - max(ps, gs)
            if gl == label and i not in used and olen > best_len:
                best, best_len = i, olen
        if best >= 0:
            used.add(best)
            tp += 1
    return tp


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "support": tp + fn}


def evaluate(docs: Sequence[ChiaDoc], predicted: Sequence[Iterable[Any]],
             types: Sequence[str] = TARGET_TYPES) -> dict[str, Any]:
    """Scores of ``predicted`` (one list of entities per doc) against each doc's gold spans.

    Returns ``{"exact": ..., "overlap": ...}``; each has ``per_type`` (every label seen in gold or
    predictions), ``micro`` (over ``types``) and ``micro_all`` (over the labels the model predicts), plus
    ``documents``.
    """
    if len(docs) != len(predicted):
        raise ValueError(f"{len(docs)} documents but {len(predicted)} prediction lists")
    counts: dict[str, dict[str, list[int]]] = {"exact": {}, "overlap": {}}
    # Lenient overlap (i2b2/n2c2 "inexact"): a prediction is right if it overlaps any gold span of its
    # type, a gold span found if any prediction of its type overlaps it; not one-to-one.
    lenient: dict[str, list[int]] = {}
    predicted_labels: set[str] = set()
    for doc, preds in zip(docs, predicted):
        pred_raw = _spans(preds)
        predicted_labels.update(s[0] for s in pred_raw)
        gold = sorted({(lab, *trim(doc.text, s, e)) for lab, s, e in doc.gold})
        pred = sorted({(lab, *trim(doc.text, s, e)) for lab, s, e in pred_raw})
        gold = [g for g in gold if g[1] < g[2]]
        pred = [p for p in pred if p[1] < p[2]]
        for label in {g[0] for g in gold} | {p[0] for p in pred}:
            g = [s for s in gold if s[0] == label]
            p = [s for s in pred if s[0] == label]
            for mode in ("exact", "overlap"):
                tp = _match(g, p, mode == "overlap")
                c = counts[mode].setdefault(label, [0, 0, 0])
                c[0] += tp
                c[1] += len(p) - tp
                c[2] += len(g) - tp
            hit_p = sum(any(ps < ge and gs < pe for _, gs, ge in g) for _, ps, pe in p)
            hit_g = sum(any(ps < ge and gs < pe for _, ps, pe in p) for _, gs, ge in g)
            c = lenient.setdefault(label, [0, 0, 0, 0])
            c[0], c[1], c[2], c[3] = c[0] + hit_p, c[1] + len(p), c[2] + hit_g, c[3] + len(g)

    def micro(labels: Iterable[str], table: dict[str, list[int]]) -> dict[str, float | int]:
        rows = [table[lab] for lab in labels if lab in table]
        return _prf(*(sum(r[i] for r in rows) for i in range(3)))

    result: dict[str, Any] = {"documents": len(docs), "types": list(types),
                              "predicted_types": sorted(predicted_labels)}
    for mode, table in counts.items():
        result[mode] = {"per_type": {lab: _prf(*table[lab]) for lab in sorted(table)},
                        "micro": micro(types, table),
                        "micro_all": micro(predicted_labels, table)}

    def lenient_prf(labels: Iterable[str]) -> dict[str, float | int]:
        rows = [lenient[lab] for lab in labels if lab in lenient]
        hp, n_p, hg, n_g = (sum(r[i] for r in rows) for i in range(4))
        p = hp / n_p if n_p else 0.0
        r = hg / n_g if n_g else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": n_g,
                "predicted": n_p}

    result["lenient"] = {"per_type": {lab: lenient_prf([lab]) for lab in sorted(lenient)},
                         "micro": lenient_prf(types), "micro_all": lenient_prf(predicted_labels)}
    return result
