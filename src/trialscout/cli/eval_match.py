"""`trialscout eval criteria FILE`: the matcher against expert criterion labels (TrialGPT format)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from trialscout.match.benchmark import LABELS, BenchmarkError, score_pairs
from trialscout.match.judge import ENV_HELP, JudgeConfig, JudgeConfigError, LLMJudge

from .app import JsonOption, UserError, print_json, user_errors
from .eval import eval_app

out = Console(highlight=False)
_ORDER = ["included", "not included", "excluded", "not excluded", "not enough information", "not applicable"]


@eval_app.command("criteria")
@user_errors
def criteria_eval(
    file: Annotated[Path, typer.Argument(help="Patient/criterion pairs with expert labels (TrialGPT dev.json "
                                              "format)", show_default=False)],
    closed_world: Annotated[bool, typer.Option("--closed-world/--open-world", help="Read a note's silence on "
                                               "an exclusion as 'not excluded', as the annotators did")] = True,
    judge: Annotated[bool, typer.Option("--judge", help="Let the language model server in $TRIALSCOUT_LLM_URL "
                                        "label each pair (docs/llm-judge.md); the rules decide when it fails")] = False,
    as_json: JsonOption = False,
) -> None:
    """Accuracy, per-type accuracy, confusion matrix and recall of disqualifying labels."""
    config = judge_config() if judge else None
    if not file.is_file():
        raise UserError(f"{file}: no such file")
    llm = LLMJudge(config) if config else None
    try:
        scores = score_pairs(file, as_of=dt.date.today(), closed_world=closed_world, judge=llm).as_dict()
    except BenchmarkError as exc:
        raise UserError(str(exc)) from None
    finally:
        if llm is not None:
            llm.close()
    scores["closed_world"] = closed_world
    if as_json:
        print_json(scores)
        return
    out.print(f"[bold]{scores['pairs']} pairs: accuracy {scores['accuracy']:.3f}[/bold]  "
              + "  ".join(f"{t} {a:.3f} ({scores['pairs_by_type'][t]})" for t, a in scores["accuracy_by_type"].items()))
    recall = scores["disqualifying_recall"]
    out.print(f"Recall of disqualifying labels (not included, excluded): "
              f"{'n/a' if recall is None else f'{recall:.3f}'} of {scores['disqualifying_support']}")
    labels = [lab for lab in _ORDER if any(lab in v.values() for v in LABELS.values())]
    table = Table(title="confusion: rows expert, columns trialscout", title_justify="left", box=box.SIMPLE)
    table.add_column("expert \\ trialscout")
    for lab in labels:
        table.add_column(lab, justify="right")
    cells = {(r["expert"], r["trialscout"]): r["n"] for r in scores["confusion"]}
    for row in labels:
        table.add_row(row, *(str(cells.get((row, col), "")) for col in labels))
    out.print(table)
    if "judge" in scores:
        out.print(f"LLM judge ({config.model} at {config.host}): "  # type: ignore[union-attr]
                  + ", ".join(f"{k} {n}" for k, n in scores["judge"].items()), markup=False)
    out.print("[dim]Reference on the same pairs: GPT-4 0.871; 'not excluded' for every exclusion and 'not "
              "enough information' for every inclusion 0.635.[/dim]")


def judge_config() -> JudgeConfig:
    """The judge configured in the environment; a one-line error when there is none."""
    try:
        config = JudgeConfig.from_env()
    except JudgeConfigError as exc:
        raise UserError(str(exc)) from None
    if config is None:
        raise UserError(ENV_HELP)
    return config
