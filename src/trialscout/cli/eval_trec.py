"""`trialscout eval trec --topics FILE --qrels FILE`: trialscout's ranking against a BM25 baseline on TREC CT."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from .app import DbOption, JsonOption, UserError, db_path, print_json, user_errors
from .eval import eval_app

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@eval_app.command("trec")
@user_errors
def trec_eval(
    topics: Annotated[Path, typer.Option("--topics", help="TREC Clinical Trials topics (topics2021.xml, or BEIR "
                                                          "queries.jsonl)", show_default=False)],
    qrels: Annotated[Path, typer.Option("--qrels", help="Judgements: 'topic trial grade' (BEIR .tsv) or "
                                                        "'topic 0 trial grade' (TREC); 0 not relevant, "
                                                        "1 excluded, 2 eligible", show_default=False)],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """nDCG@10, P@10 and recall@100 of trialscout's ranking and of a BM25 baseline, on condensed lists."""
    from trialscout.match.trec import BM25_FIELDS, DEPTH, TrecInputError, load_benchmark, run_trec
    from trialscout.store import count_trials, open_store

    try:
        # The inputs first: a bad file is reported before the store is opened.
        bench_topics, bench_qrels = load_benchmark(topics, qrels)
        conn = open_store(db_path(db), create=False)
        if not count_trials(conn):
            raise UserError(f"{db_path(db)}: the store holds no trials: run `trialscout ingest` first")
        with err.status("ranking the store for each topic...") as status:
            report = run_trec(conn, bench_topics, bench_qrels,
                              progress=lambda n, total: status.update(f"ranking: topic {n} of {total}"))
    except TrecInputError as exc:
        raise UserError(str(exc)) from None
    data = report.as_dict()
    if as_json:
        print_json(data)
        return
    out.print(f"[bold]TREC Clinical Trials, condensed lists[/bold]: only judged trials are scored. The store "
              f"holds {report.judged_in_store} of the {report.judged} judged trials ({report.store_trials} trials "
              f"in all); each ranking (depth {DEPTH}) drops unjudged trials before scoring, and the qrels are "
              f"restricted to stored trials.")
    out.print(f"{report.scored_topics} of {report.topics} topics scored (those with an eligible judged trial in "
              f"the store). Judgements in the store: "
              + ", ".join(f"{n} {g}" for g, n in report.grades_in_store.items()) + ".")
    table = Table(box=box.SIMPLE, pad_edge=False)
    for col in ("run", "nDCG@10", "P@10", "recall@100", "judged/topic"):
        table.add_column(col, justify="left" if col == "run" else "right")
    names = {"trialscout": "trialscout", "bm25": "bm25 baseline",
             "trialscout_relevance_only": "[dim]trialscout, no verdict[/dim]"}
    for name, label in names.items():
        m = report.runs[name]
        table.add_row(label, f"{m['ndcg@10']:.4f}", f"{m['p@10']:.4f}", f"{m['recall@100']:.4f}",
                      f"{report.condensed_lengths[name]:.1f}")
    out.print(table)
    ratio = report.ratio()
    out.print(f"nDCG@10 trialscout / bm25: {'n/a' if ratio is None else f'{ratio:.3f}x'}. "
              f"nDCG@10 uses graded gains (excluded 1, eligible 2); P@10 and recall@100 count eligible trials as "
              f"relevant. Measures by ir_measures; bm25 is bm25s over {', '.join(BM25_FIELDS)}. "
              f"{report.seconds:.0f} s.")
