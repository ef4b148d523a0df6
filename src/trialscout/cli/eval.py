"""`trialscout eval chia DIR`: score the shipped entity recognizer on Chia-format (brat) annotations."""

from __future__ import annotations

import logging
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from .app import JsonOption, UserError, print_json, user_errors

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

eval_app = typer.Typer(no_args_is_help=True, add_completion=False,
                       help="Evaluate trialscout's models on annotated benchmarks.")


class Split(str, Enum):
    heldout = "heldout"
    all = "all"


@eval_app.command("chia")
@user_errors
def chia(directory: Annotated[Path, typer.Argument(metavar="DIR", show_default=False,
                                                   help="Directory of Chia NCT*_inc/_exc .txt + .ann files")],
         as_json: JsonOption = False,
         split: Annotated[Split, typer.Option("--split", help="heldout: only the trials the model never saw "
                                                              "in training; all: every document")] = Split.heldout,
         ) -> None:
    """Entity recognition scores (exact and overlapping spans) on Chia-format annotations."""
    from trialscout.criteria.ner import TARGET_TYPES, find_entities
    from trialscout.criteria.ner.chia import ReadStats, heldout, read_chia
    from trialscout.criteria.ner.evaluate import evaluate

    if not directory.is_dir():
        raise UserError(f"{directory}: no such directory")
    stats = ReadStats()
    logging.getLogger("trialscout.criteria.ner.chia").setLevel(logging.ERROR)  # summarised below instead
    docs = read_chia(directory, stats)
    if not docs:
        raise UserError(f"{directory}: no Chia documents (NCT*_inc.txt/.ann or NCT*_exc.txt/.ann pairs)")
    notes = []
    if stats.missing_ann:
        notes.append(f"{stats.missing_ann} .txt files without a .ann skipped")
    if stats.malformed:
        notes.append(f"{stats.malformed} malformed annotation lines skipped")
    trials = {d.trial_id for d in docs}
    held = {t for t in trials if heldout(t)}
    if split is Split.heldout:
        docs = [d for d in docs if d.trial_id in held]
        if not docs:
            raise UserError(f"{directory}: none of its {len(trials)} trials is in the held-out split "
                            "(use --split all)")
        notes.append(f"held-out split: {len(held)} of {len(trials)} trials, {len(docs)} documents")
    elif len(held) < len(trials):
        notes.append(f"warning: {len(trials) - len(held)} of {len(trials)} trials are not held out (used for "
                     "training or model selection): scores on them are optimistic")
    try:
        predicted = find_entities([d.text for d in docs])
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
    scores: dict[str, Any] = evaluate(docs, predicted, TARGET_TYPES)
    scores |= {"split": split.value, "trials": len({d.trial_id for d in docs}),
               "skipped": {"missing_ann": stats.missing_ann, "malformed_lines": stats.malformed}}
    if as_json:
        for note in notes:
            err.print(note)
        print_json(scores)
        return
    for note in notes:
        err.print(note)
    _print_table(scores)


def _print_table(scores: dict[str, Any]) -> None:
    ex, ov = scores["exact"], scores["overlap"]
    table = Table(title=f"Chia entities, {scores['split']}: {scores['documents']} documents, {scores['trials']} "
                        "trials (ex = exact span, ov = overlapping span)", title_justify="left", box=box.SIMPLE,
                  pad_edge=False)
    for col in ("type", "P ex", "R ex", "F1 ex", "P ov", "R ov", "F1 ov", "support"):
        table.add_column(col, justify="left" if col == "type" else "right", no_wrap=True)

    def row(name: str, e: dict[str, Any], o: dict[str, Any], style: str | None = None) -> None:
        table.add_row(name, *(f"{e[k]:.3f}" for k in ("precision", "recall", "f1")),
                      *(f"{o[k]:.3f}" for k in ("precision", "recall", "f1")), str(o["support"]), style=style)

    empty = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    for label in scores["types"]:
        row(label, ex["per_type"].get(label, empty), ov["per_type"].get(label, empty))
    row("micro", ex["micro"], ov["micro"], "bold")
    row("micro, all predicted", ex["micro_all"], ov["micro_all"])
    out.print(table)
    le = scores["lenient"]["micro"]
    out.print(f"Lenient overlap (i2b2-style, not one-to-one) micro: P {le['precision']:.3f}  R {le['recall']:.3f}  "
              f"F1 {le['f1']:.3f}. Overlap above is one-to-one: each gold and predicted span counted once.")
