"""Static word vectors for the entity recognizer, trained on unlabelled registry text (floret, hash mode).

    OMP_NUM_THREADS=1 python -m trialscout.criteria.ner.vectors --chia ../shared/benchmarks/chia \\
        --registry ../shared/data/ctgov/AllPublicXML-sample.zip ../shared/data/ctgov/ctg-studies-sample.json \\
        --out /tmp/ner-vectors

writes ``corpus.txt`` (one lower-cased, tokenized line per row) and ``vectors.floret`` into ``--out``.
``train.py --vectors DIR/vectors.floret`` loads them into the pipeline (keyed on LOWER). ``train.py
--registry ...`` runs this step itself into a temporary directory, so one command rebuilds the model.

Text: titles, summaries, descriptions, eligibility criteria, conditions, keywords, arms, interventions
and outcomes of every registry trial, plus the Chia train and dev documents. Held-out Chia text never
goes in: registry trials whose NCT id (or an alias) falls in the held-out bucket (``chia.heldout``) are
skipped, and so are held-out Chia documents. Floret is trained with one thread and a fixed seed, so the
vectors are the same on every run. Needs the ``floret`` package (optional extra ``ner``).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

from .chia import heldout, lines, read_chia  # noqa: E402

# Floret settings: the table is hashed (subword n-grams and words share ROWS rows), so its size is fixed
# whatever the vocabulary: ROWS x DIM float32 = 20 MB.
ROWS = 50_000
DIM = 100
MINN, MAXN, HASH_COUNT = 4, 5, 2
EPOCHS = 10


def _trial_texts(trial) -> Iterator[str]:  # type: ignore[no-untyped-def]
    yield from (trial.brief_title, trial.official_title, trial.brief_summary, trial.detailed_description)
    if trial.eligibility:
        yield from (trial.eligibility.criteria, trial.eligibility.study_population)
    yield from trial.conditions
    yield from trial.keywords
    for arm in trial.arms:
        yield from (arm.label, arm.description)
    for iv in trial.interventions:
        yield from (iv.name, iv.description)
    for oc in trial.outcomes:
        yield from (oc.measure, oc.description, oc.time_frame)


def registry_texts(paths: list[Path]) -> Iterator[str]:
    """Texts of every registry trial that is not a Chia held-out trial (by NCT id or alias)."""
    from trialscout.model import Trial
    from trialscout.sources import read_paths

    seen: set[str] = set()
    for item in read_paths(paths):
        if not isinstance(item, Trial):
            continue
        ids = [i for i in (item.nct_id, *item.aliases) if i]
        if any(heldout(i) for i in ids) or item.id in seen:
            continue
        seen.add(item.id)
        yield from (t for t in _trial_texts(item) if t)


def build_corpus(chia: Path, registry: list[Path], out: Path) -> dict[str, int]:
    from .train import blank_tokenizer  # the recognizer's own tokenization

    tokenizer = blank_tokenizer()
    texts = [d.text for d in read_chia(chia) if not heldout(d.trial_id)]
    texts += list(registry_texts(registry))
    seen: set[str] = set()
    n_lines = n_tokens = 0
    with open(out, "w", encoding="utf-8") as fh:
        for text in texts:
            for s, e in lines(text):
                line = " ".join(t.lower_ for t in tokenizer(text[s:e].strip()) if not t.is_space)
                if not line or line in seen:  # boilerplate criteria repeat across trials
                    continue
                seen.add(line)
                fh.write(line + "\n")
                n_lines += 1
                n_tokens += line.count(" ") + 1
    return {"texts": len(texts), "lines": n_lines, "tokens": n_tokens}


def train_vectors(corpus: Path, out: Path, dim: int = DIM, rows: int = ROWS, epochs: int = EPOCHS) -> None:
    import floret

    model = floret.train_unsupervised(
        str(corpus), model="cbow", mode="floret", hashCount=HASH_COUNT, bucket=rows, minn=MINN, maxn=MAXN,
        dim=dim, epoch=epochs, minCount=3, thread=1, verbose=0)  # fastText seeds with 0
    model.save_floret_vectors(str(out))


def build(chia: Path, registry: list[Path], out_dir: Path, dim: int = DIM, rows: int = ROWS,
          epochs: int = EPOCHS) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    stats = build_corpus(chia, registry, out_dir / "corpus.txt")
    print(f"vectors corpus: {stats} in {time.monotonic() - t0:.0f} s", flush=True)
    train_vectors(out_dir / "corpus.txt", out_dir / "vectors.floret", dim, rows, epochs)
    print(f"vectors {rows} x {dim} trained in {time.monotonic() - t0:.0f} s", flush=True)
    return out_dir / "vectors.floret"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chia", type=Path, required=True)
    ap.add_argument("--registry", type=Path, nargs="+", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--dim", type=int, default=DIM)
    ap.add_argument("--rows", type=int, default=ROWS)
    ap.add_argument("--epochs", type=int, default=EPOCHS)
    args = ap.parse_args(argv)
    build(args.chia, args.registry, args.out, args.dim, args.rows, args.epochs)


if __name__ == "__main__":
    main()
