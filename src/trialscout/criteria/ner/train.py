"""Train the Chia entity recognizer (reproducible, one CPU thread).

The shipped model (``model/``) is rebuilt with one command (about 20 min on one core; needs the
``floret`` package, extra ``ner-train``)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m trialscout.criteria.ner.train \\
        --chia ../shared/benchmarks/chia --out src/trialscout/criteria/ner/model \\
        --registry ../shared/data/ctgov/AllPublicXML-sample.zip ../shared/data/ctgov/ctg-studies-sample.json \\
        --nested split --window 2 --hidden 128 --fixed-epochs 8

``--registry`` first trains floret static word vectors on unlabelled registry text (``vectors.py``,
deterministic, never on Chia held-out text); ``--fixed-epochs 8`` then trains on train+dev for 8 epochs,
the epoch count dev picked for this recipe (the same command without ``--fixed-epochs`` trains on train
only and picks the epoch on dev, with early stopping; ``--refit`` does both in one run).

Held-out trials (``chia.heldout``) are never trained on nor used for model selection: only scored once
at the end, for the figures written to ``meta-trialscout.json``. Dev trials (``chia.dev``) pick the epoch.

The pipeline runs ``trialscout_lexicon_marks`` (``marks.py``) before the recognizer: tokens inside a
lexicon, threshold or time-window match get a category marker as their NORM, which the model embeds
alongside LOWER (word identity) and the static vectors (keyed on LOWER). Nested or overlapping gold
spans become non-overlapping targets by ``select_spans`` (``--nested split``: inner entities win and an
outer entity keeps its uncovered part, so every gold entity has a piece to be found).
"""

from __future__ import annotations

import os

# Before numpy/thinc are imported: the machine is shared and one core is the budget.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import spacy  # noqa: E402
from spacy.language import Language  # noqa: E402
from spacy.tokens import Span  # noqa: E402
from spacy.training import Example  # noqa: E402
from spacy.util import compile_infix_regex, compounding, filter_spans, fix_random_seed, minibatch  # noqa: E402
from thinc.api import Adam  # noqa: E402

from . import predict  # noqa: E402
from .marks import NAME as MARKS, mark  # noqa: E402  (registers the component)
from .chia import TARGET_TYPES, ChiaDoc, ReadStats, dev, heldout, lines, read_chia  # noqa: E402
from .evaluate import evaluate  # noqa: E402

SEED = 0


def ner_config(width: int, depth: int, hidden: int, window: int = 1, vectors: bool = False) -> dict[str, Any]:
    # Subword features (prefix/suffix/shape) matter: drugs, labs and units are full of rare words.
    # LOWER is the word; NORM is the word or, inside a lexicon/threshold/window match, its marker.
    # With ``vectors`` the static floret vectors (vectors.py, keyed on LOWER) are concatenated in too.
    return {"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": hidden, "maxout_pieces": 2, "use_upper": True, "nO": None,
        "tok2vec": {
            "@architectures": "spacy.Tok2Vec.v2",
            "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": width,
                      "attrs": ["LOWER", "NORM", "PREFIX", "SUFFIX", "SHAPE"],
                      "rows": [5000, 2000, 1000, 2500, 2500],
                      "include_static_vectors": vectors},
            "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": width, "depth": depth,
                       "window_size": window, "maxout_pieces": 3}}}}


def blank_tokenizer() -> Language:
    nlp = spacy.blank("en")
    # Split comparison operators and slashes off numbers ("<1.5", "100,000/mm3", "ALT<2.5X") so that
    # Value and Measurement boundaries fall on token boundaries.
    infixes = list(nlp.Defaults.infixes) + [r"[<>=≤≥/]"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return nlp


def blank_pipeline(width: int, depth: int, hidden: int, window: int = 1, vectors: Path | None = None,
                   aux: tuple[str, ...] = ()) -> Language:
    nlp = blank_tokenizer()
    if vectors is not None:
        from spacy.training.initialize import convert_vectors

        convert_vectors(nlp, vectors, truncate=0, prune=-1, mode="floret", attr="LOWER",
                        name="trialscout_floret")
    nlp.add_pipe(MARKS)
    ner = nlp.add_pipe("ner", config=ner_config(width, depth, hidden, window, vectors is not None))
    for label in (*TARGET_TYPES, *aux):
        ner.add_label(label)
    return nlp


def select_spans(spans: list[Span], nested: str = "longest") -> list[Span]:
    """Non-overlapping training targets from gold spans that may overlap or nest.

    ``longest``: longest span wins (spaCy's ``filter_spans``). ``shortest``: shortest wins, so several
    inner entities beat the one span around them. ``split``: shortest wins, then each span left out keeps
    its longest stretch of tokens not covered yet, under its own label ("since the [radiation therapy]"
    -> Temporal "since the" + Procedure "radiation therapy"): every gold entity keeps a piece a prediction
    can overlap, which is what one-to-one overlap scoring counts.
    """
    if nested == "longest":
        return filter_spans(spans)
    chosen: list[Span] = []
    used: set[int] = set()
    dropped: list[Span] = []
    for span in sorted(spans, key=lambda sp: (sp.end - sp.start, sp.start, sp.label_)):
        if used.intersection(range(span.start, span.end)):
            dropped.append(span)
        else:
            chosen.append(span)
            used.update(range(span.start, span.end))
    if nested == "split":
        for span in sorted(dropped, key=lambda sp: (sp.start - sp.end, sp.start, sp.label_)):
            runs: list[list[int]] = [[]]
            for i in range(span.start, span.end):
                if i in used:
                    runs.append([])
                else:
                    runs[-1].append(i)
            doc = span.doc
            runs = [r for r in runs if any(doc[i].is_alpha or doc[i].like_num for i in r)]
            if not runs:
                continue
            run = max(runs, key=len)
            while doc[run[0]].is_punct or doc[run[0]].is_space:
                run = run[1:]
            while doc[run[-1]].is_punct or doc[run[-1]].is_space:
                run = run[:-1]
            chosen.append(Span(doc, run[0], run[-1] + 1, label=span.label_))
            used.update(range(run[0], run[-1] + 1))
    return sorted(chosen, key=lambda sp: sp.start)


def to_examples(nlp: Language, docs: list[ChiaDoc], drops: dict[str, int], nested: str = "longest",
                aux: tuple[str, ...] = ()) -> list[Example]:
    """One example per criteria line, with non-overlapping token-aligned target entities.

    ``aux`` labels (other Chia types) are extra targets where they overlap no target entity: they teach
    the model what is *not* a Condition or a Procedure ("history of" is an Observation, a pacemaker a
    Device); ``predict`` never returns them.
    """
    examples = []
    for doc in docs:
        gold = [g for g in doc.gold if g[0] in TARGET_TYPES]
        extra = [g for g in doc.gold if g[0] in aux]
        for ls, le in lines(doc.text):
            text = doc.text[ls:le]
            pred = mark(nlp.make_doc(text))  # what the recognizer sees after the marks component
            ref = nlp.make_doc(text)
            spans = []
            for label, s, e in gold:
                if s >= le or e <= ls:
                    continue
                if s < ls or e > le:
                    drops["crosses_line"] += 1
                    continue
                span = ref.char_span(s - ls, e - ls, label=label, alignment_mode="expand")
                if span is None or not span.text.strip():
                    drops["unalignable"] += 1
                    continue
                spans.append(span)
            kept = select_spans(spans, nested)
            drops["overlap"] += len(spans) - len(kept)
            drops["kept"] += len(kept)
            used = {i for sp in kept for i in range(sp.start, sp.end)}
            for label, s, e in sorted(extra, key=lambda g: (g[1] - g[2], g[1], g[0])):  # longest first
                if s < ls or e > le:
                    continue
                span = ref.char_span(s - ls, e - ls, label=label, alignment_mode="expand")
                if span is None or not span.text.strip() or used.intersection(range(span.start, span.end)):
                    continue
                kept.append(span)
                used.update(range(span.start, span.end))
                drops["aux"] = drops.get("aux", 0) + 1
            ref.ents = sorted(kept, key=lambda sp: sp.start)
            examples.append(Example(pred, ref))
    return examples


def overlap_f1(nlp: Language, docs: list[ChiaDoc]) -> tuple[float, dict[str, Any]]:
    scores = evaluate(docs, predict(nlp, [d.text for d in docs]))
    return scores["overlap"]["micro"]["f1"], scores


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def fit(nlp: Language, train: list[Example], epochs: int, dropout: float, rng: random.Random,
        dev_docs: list[ChiaDoc] | None, patience: int, deadline: float, t0: float, tag: str
        ) -> tuple[bytes, int, list[dict[str, Any]]]:
    """Train from scratch; with ``dev_docs`` keep the epoch with the best dev F1 (early stopping),
    without them run exactly ``epochs`` epochs and keep the last. Returns (weights, epoch, history)."""
    nlp.initialize(lambda: train)
    # spaCy's training defaults, plus weight averaging: the raw weights swing a lot between epochs.
    optimizer = Adam(0.001, L2=0.01, L2_is_weight_decay=True, grad_clip=1.0, use_averages=True)
    best_f1, best_epoch, best_bytes, history = -1.0, 0, b"", []
    for epoch in range(1, epochs + 1):
        rng.shuffle(train)
        losses: dict[str, float] = {}
        for batch in minibatch(train, size=compounding(8.0, 64.0, 1.002)):
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
        with nlp.use_params(optimizer.averages):  # averaged weights score (and are saved) smoother
            f1 = overlap_f1(nlp, dev_docs)[0] if dev_docs is not None else float(epoch)
            if f1 > best_f1:
                best_bytes = nlp.to_bytes()
        elapsed = time.monotonic() - t0
        row: dict[str, Any] = {"epoch": epoch, "loss": round(losses.get("ner", 0.0), 1), "elapsed_s": round(elapsed)}
        if dev_docs is not None:
            row["dev_overlap_f1"] = f1
        history.append(row)
        print(f"{tag} epoch {epoch:2d}  loss {losses.get('ner', 0.0):9.1f}  "
              + (f"dev overlap F1 {f1:.4f}  " if dev_docs is not None else "")
              + f"{elapsed / 60:5.1f} min", flush=True)
        if f1 > best_f1:
            best_f1, best_epoch = f1, epoch
        if dev_docs is not None and epoch - best_epoch >= patience or elapsed > deadline:
            break
    return best_bytes, best_epoch, history


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chia", type=Path, required=True, help="directory of Chia .txt/.ann files")
    ap.add_argument("--out", type=Path, required=True, help="model directory to write")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=5, help="stop after this many epochs without a better dev F1")
    ap.add_argument("--max-minutes", type=float, default=22.0,
                    help="safety cap; reaching it makes the run depend on machine speed")
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--window", type=int, default=1)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--nested", choices=("longest", "shortest", "split"), default="longest",
                    help="how overlapping/nested gold spans become non-overlapping targets (select_spans)")
    ap.add_argument("--aux", default="",
                    help="comma-separated other Chia types to train as extra labels (never predicted)")
    ap.add_argument("--vectors", type=Path, help="floret vectors file (vectors.py) to include as static vectors")
    ap.add_argument("--registry", type=Path, nargs="+",
                    help="registry files to train the floret vectors on first (vectors.py; ignored with --vectors)")
    ap.add_argument("--refit", action="store_true",
                    help="after picking the epoch count on dev, retrain on train+dev for that many epochs")
    ap.add_argument("--fixed-epochs", type=int,
                    help="skip selection: train on train+dev for exactly this many epochs")
    ap.add_argument("--no-heldout", action="store_true",
                    help="do not score the held-out split (for runs that only compare settings on dev)")
    args = ap.parse_args(argv)
    aux = tuple(a for a in args.aux.split(",") if a)
    assert not set(aux) & set(TARGET_TYPES)

    t0 = time.monotonic()
    stats = ReadStats()
    docs = read_chia(args.chia, stats)
    held = [d for d in docs if heldout(d.trial_id)]
    dev_docs = [d for d in docs if not heldout(d.trial_id) and dev(d.trial_id)]
    train_docs = [d for d in docs if not heldout(d.trial_id) and not dev(d.trial_id)]
    assert not {d.trial_id for d in train_docs + dev_docs} & {d.trial_id for d in held}

    vectors = args.vectors
    tmp = None
    if vectors is None and args.registry:
        import tempfile

        from .vectors import build

        tmp = tempfile.TemporaryDirectory(prefix="ner-vectors-")
        vectors = build(args.chia, args.registry, Path(tmp.name))
    vectors_seconds = time.monotonic() - t0
    vectors_sha256 = None
    if vectors is not None:
        import hashlib

        vectors_sha256 = hashlib.sha256(Path(vectors).read_bytes()).hexdigest()
        print(f"vectors {vectors} sha256 {vectors_sha256}", flush=True)

    def new_pipeline() -> Language:
        fix_random_seed(SEED)
        return blank_pipeline(args.width, args.depth, args.hidden, args.window, vectors, aux)

    deadline = args.max_minutes * 60
    nlp = new_pipeline()
    drops = {"kept": 0, "overlap": 0, "crosses_line": 0, "unalignable": 0}
    train = to_examples(nlp, train_docs, drops, args.nested, aux)
    print(f"train {len({d.trial_id for d in train_docs})} trials / {len(train)} lines, "
          f"dev {len({d.trial_id for d in dev_docs})} trials, held-out {len({d.trial_id for d in held})} trials; "
          f"spans {drops}", flush=True)
    history: list[dict[str, Any]] = []
    best_epoch, refit_history = 0, None
    if args.fixed_epochs is None:
        best_bytes, best_epoch, history = fit(nlp, train, args.epochs, args.dropout, random.Random(SEED), dev_docs,
                                              args.patience, deadline, t0, "select")
        nlp.from_bytes(best_bytes)
    final_epochs = args.fixed_epochs or (best_epoch if args.refit else 0)
    if final_epochs:
        nlp = new_pipeline()
        both = (to_examples(nlp, train_docs, {k: 0 for k in drops}, args.nested, aux)
                + to_examples(nlp, dev_docs, {k: 0 for k in drops}, args.nested, aux))
        best_bytes, _, refit_history = fit(nlp, both, final_epochs, args.dropout, random.Random(SEED), None,
                                           0, deadline * 2, t0, "refit")
        nlp.from_bytes(best_bytes)
    train_seconds = time.monotonic() - t0
    if tmp is not None:
        tmp.cleanup()

    _, dev_scores = overlap_f1(nlp, dev_docs)
    held_scores = None if args.no_heldout else overlap_f1(nlp, held)[1]
    nlp.meta.update({"name": "trialscout_chia_ner", "version": "1.1.0",
                     "description": "Entity recognizer for eligibility criteria trained on the Chia corpus",
                     "sources": [{"name": "Chia (Kury et al., Scientific Data 2020)", "license": "CC BY 4.0"}],
                     "license": "CC BY 4.0"})
    if args.out.exists():
        shutil.rmtree(args.out)
    nlp.to_disk(args.out)
    report = {
        "seed": SEED,
        "settings": vars(args) | {"chia": str(args.chia), "out": str(args.out),
                                  "vectors": str(args.vectors) if args.vectors else None,
                                  "registry": [str(p) for p in args.registry or []]},
        "train_seconds": round(train_seconds), "vectors_seconds": round(vectors_seconds),
        "vectors_sha256": vectors_sha256,
        "epochs_run": len(history), "best_epoch": best_epoch,
        "final_fit": ({"data": "train+dev", "epochs": final_epochs, "history": refit_history}
                      if final_epochs else None),
        "trials": {"train": len({d.trial_id for d in train_docs}), "dev": len({d.trial_id for d in dev_docs}),
                   "heldout": len({d.trial_id for d in held})},
        "documents": {"train": len(train_docs), "dev": len(dev_docs), "heldout": len(held)},
        "train_lines": len(train), "train_spans": drops, "read": {k: getattr(stats, k) for k in stats.__slots__},
        "history": history,
        "dev_note": "dev was trained on (final fit on train+dev): dev scores are not held-out" if final_epochs
        else "dev picked the epoch",
        "dev": dev_scores, "heldout": held_scores,
    }
    report["model_bytes"] = dir_size(args.out)
    (args.out / "meta-trialscout.json").write_text(json.dumps(report, indent=2) + "\n")
    report["model_bytes"] = dir_size(args.out)
    (args.out / "meta-trialscout.json").write_text(json.dumps(report, indent=2) + "\n")
    for name, scores in (("dev", dev_scores), ("held-out", held_scores)):
        if scores is None:
            continue
        for mode in ("exact", "overlap"):
            m = scores[mode]["micro"]
            print(f"{name} {mode:7s} micro P {m['precision']:.3f} R {m['recall']:.3f} F1 {m['f1']:.3f}")
    print(f"trained in {train_seconds / 60:.1f} min, best epoch {best_epoch}, final fit {final_epochs} epochs, "
          f"model {report['model_bytes'] / 1e6:.1f} MB at {args.out}")


if __name__ == "__main__":
    main()
