"""One-line readable summaries of parsed facts, for the CLI table and explanations."""

from __future__ import annotations

from .model import Fact, Threshold, Window

__all__ = ["describe_fact", "describe_threshold", "describe_window"]


def _num(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:.3g}"


def describe_threshold(t: Threshold) -> str:
    unit = f" {t.relative_to}" if t.relative_to else (f" {t.unit}" if t.unit else "")
    if t.relative_to:
        unit = f"×{t.relative_to}"
    scale = f"/{_num(t.scale_max)}" if t.scale_max else ""
    if t.op == "between":
        body = f"{_num(t.value)}–{_num(t.high or t.value)}{scale}{unit}"
    elif t.op == "in":
        body = "in {" + ", ".join(_num(v) for v in t.values or ()) + "}" + unit
    else:
        body = f"{t.op} {_num(t.value)}{scale}{unit}"
    if t.sex:
        body += f" ({t.sex})"
    return f"({body})" if t.alternative else body


def describe_window(w: Window) -> str:
    anchor = f" before {w.anchor}" if w.anchor else ""
    if w.relation == "at_least":
        return f"for ≥ {w.days} d{anchor}"
    if w.relation == "during":
        return f"for {w.days} d"
    return f"within {w.days} d{anchor}"


def describe_fact(f: Fact) -> str:
    # Matching describes every fact of every trial it checks: the common case (no flags, no limits) is kept short.
    parts = [f.kind]
    if f.qualifier:
        parts.append(f.qualifier)
    if f.concept:
        parts.append(f.concept)
    elif f.value:
        parts.append(f.value)
    if f.negated or f.historical or f.hypothetical or f.family or f.dose_change:
        flags = [name for name, on in (("not", f.negated), ("history", f.historical), ("planned", f.hypothetical),
                                       ("family", f.family), ("dose change", f.dose_change)) if on]
        parts.append("[" + ", ".join(flags) + "]")
    if f.thresholds:
        parts += [describe_threshold(t) for t in f.thresholds]
    if f.window:
        parts.append(describe_window(f.window))
    if f.exceptions:
        parts.append("except " + ", ".join(f.exceptions))
    return " ".join(parts)
