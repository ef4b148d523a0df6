"""The optional LLM judge against a local fake OpenAI-compatible server with canned answers."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from trialscout.cli import app
from trialscout.criteria import parse_criteria
from trialscout.match import CriterionResult, evaluate_criteria, match_criteria
from trialscout.match.judge import ENV_HELP, JudgeConfig, JudgeConfigError, LLMJudge, PatientText, judge_matches
from trialscout.patients import Patient, load_patient, patient_from_note

TODAY = dt.date(2026, 11, 27)
FIXTURES = Path(__file__).parent / "fixtures"
NOTE = ("0. A 58-year-old woman presents with chest pain.\n1. She has hypertension and obesity.\n"
        "2. She denies diabetes.\n3. She had breast cancer treated in 2019.\n")
ENV_VARS = ("TRIALSCOUT_LLM_URL", "TRIALSCOUT_LLM_MODEL", "TRIALSCOUT_LLM_KEY", "TRIALSCOUT_LLM_TIMEOUT")


class FakeServer:
    """An OpenAI-compatible /chat/completions on 127.0.0.1 that answers from a queue (or a function of
    the request) and records what it was sent."""

    def __init__(self):
        self.queue: list = []
        self.responder = None
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append({"path": self.path, **body})
                fake.headers.append(dict(self.headers))
                answer = fake.responder(body) if fake.responder else (fake.queue.pop(0) if fake.queue else (599, ""))
                status, content, delay = (*answer, 0) if len(answer) == 2 else answer
                if delay:
                    time.sleep(delay)
                if status == 200 and not isinstance(content, bytes):
                    payload = json.dumps({"id": "x", "object": "chat.completion", "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()
                else:
                    payload = content if isinstance(content, bytes) else str(content).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (timeout test)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def answer(self, label, evidence=(), reason="canned", **extra) -> tuple[int, str]:
        return 200, json.dumps({"label": label, "evidence": list(evidence), "reason": reason, **extra})

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    server = FakeServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """httpx honours proxy variables; the fake server is on this machine."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def no_env(monkeypatch):
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


_CLIENT: list[httpx.Client] = []


def make_judge(cfg: JudgeConfig) -> LLMJudge:
    """A judge on one shared HTTP client (making a client costs ~0.15 s of certificate loading)."""
    if not _CLIENT:
        _CLIENT.append(httpx.Client())
    return LLMJudge(cfg, client=_CLIENT[0])


def config(fake: FakeServer, **kw) -> JudgeConfig:
    kw = {"timeout": 2.0, "max_retries": 0, **kw}
    return JudgeConfig(url=fake.url, model="fake-model", api_key="sk-test", **kw)


def rule(section="exclusion", state="unknown", text="History of cancer", **kw) -> CriterionResult:
    return CriterionResult(id=1, section=section, text=text, state=state, reason="rules said so",
                           question="Has the patient had cancer?" if state == "unknown" else None, **kw)


@pytest.fixture(scope="module")
def record() -> PatientText:
    return PatientText.from_note(NOTE, patient_from_note(NOTE))


# -- good answers -----------------------------------------------------------------------------------

def test_a_good_answer_is_used_with_its_evidence(fake, record):
    fake.queue.append(fake.answer("met", [3], "Breast cancer treated in 2019."))
    with make_judge(config(fake)) as judge:
        r = judge.judge(rule(), record)
    assert (r.state, r.judged_by, r.judge_note, r.evidence_sentences) == ("met", "llm", None, [3])
    assert r.reason == "model: Breast cancer treated in 2019. (line 3)"
    assert r.question is None and [f.concept for f in r.evidence] == ["breast cancer"]
    assert judge.counts == {"llm": 1}
    (sent,) = fake.requests
    assert sent["path"] == "/v1/chat/completions" and sent["model"] == "fake-model"
    assert sent["response_format"] == {"type": "json_object"} and sent["temperature"] == 0
    assert fake.headers[0]["Authorization"] == "Bearer sk-test"
    user = sent["messages"][1]["content"]
    assert "Criterion (exclusion): History of cancer" in user
    assert "0. A 58-year-old woman presents with chest pain." in user and "3. She had breast cancer" in user
    assert "unknown" in sent["messages"][0]["content"]


def test_lenient_but_exact_reading(fake, record):
    fake.queue += [(200, '```json\n{"label": "Not met", "evidence": ["2"], "reason": "denies"}\n```'),
                   (200, '{"label": "not_applicable", "evidence": [0], "extra": 1}')]
    with make_judge(config(fake)) as judge:
        a = judge.judge(rule(section="inclusion", text="Diabetes mellitus"), record)
        b = judge.judge(rule(section="inclusion", text="Men only"), record)
    assert (a.state, a.evidence_sentences, a.judged_by) == ("not_met", [2], "llm")
    assert (b.state, b.reason) == ("not_applicable", "model: no reason given (line 0)")


# -- failures fall back to the rules, saying why ----------------------------------------------------

@pytest.mark.parametrize(("answer", "note"), [
    ((200, "I think the patient is excluded."), "malformed answer (not JSON)"),
    ((200, '{"label": "met", "evidence": [3]'), "malformed answer (not JSON)"),
    ((200, '["met"]'), "malformed answer (not a JSON object)"),
    ((200, b'{"choices": []}'), "malformed answer (not an OpenAI-style chat completion)"),
    ((200, b"<html>gateway</html>"), "malformed answer (not an OpenAI-style chat completion)"),
    ((200, '{"label": "probably", "evidence": [3]}'), "label 'probably' is not one of met, not_met, unknown"),
    ((200, '{"evidence": [3]}'), "malformed answer (no label)"),
    ((200, '{"label": 1, "evidence": [3]}'), "label 'int' is not one of"),
    ((200, '{"label": "met", "evidence": [99]}'), "evidence line 99 is not in the record (0-3)"),
    ((200, '{"label": "met", "evidence": [-1]}'), "evidence line -1 is not in the record"),
    ((200, '{"label": "met", "evidence": "3"}'), "malformed answer (evidence is invalid)"),
    ((200, '{"label": "met", "evidence": [true]}'), "malformed answer (evidence is invalid)"),
    ((500, "boom"), "server answered HTTP 500"),
    ((401, "no key"), "server answered HTTP 401"),
])
def test_bad_answers_fall_back_to_the_rules(fake, record, answer, note):
    fake.queue.append(answer)
    original = rule(state="not_met", text="Diabetes")
    with make_judge(config(fake)) as judge:
        r = judge.judge(original, record)
    assert r.judged_by == "rules" and r.judge_note.startswith("LLM judge not used: ")
    assert note in r.judge_note
    assert r.model_dump(exclude={"judge_note"}) == original.model_dump(exclude={"judge_note"})
    assert "I think" not in r.judge_note and "gateway" not in r.judge_note  # the answer is never echoed
    assert sum(judge.counts.values()) == 1 and next(iter(judge.counts)).startswith("fallback:")


def test_server_errors_are_retried_then_fall_back(fake, record):
    fake.queue += [(503, "busy"), (500, "boom")]
    with make_judge(config(fake, max_retries=1)) as judge:
        r = judge.judge(rule(state="met"), record)
    assert len(fake.requests) == 2
    assert (r.state, r.judged_by) == ("met", "rules")
    assert r.judge_note == "LLM judge not used: server answered HTTP 500, 2 tries"
    fake.queue += [(500, "boom"), fake.answer("met", [3])]
    with make_judge(config(fake, max_retries=1)) as judge:
        assert judge.judge(rule(), record).judged_by == "llm"  # the retry got an answer


def test_a_slow_answer_times_out_and_falls_back(fake, record):
    fake.queue.append((*fake.answer("met", [3]), 1.5))
    start = time.monotonic()
    with make_judge(config(fake, timeout=0.3)) as judge:
        r = judge.judge(rule(), record)
    assert time.monotonic() - start < 1.2
    assert (r.state, r.judged_by, r.judge_note) == ("unknown", "rules", "LLM judge not used: no answer within 0.3s")
    assert judge.counts == {"fallback:timeout": 1}


def test_an_unreachable_server_falls_back_and_is_given_up_on(record):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    cfg = JudgeConfig(url=f"http://127.0.0.1:{port}/v1", model="m", max_retries=0, max_failures=2)
    with make_judge(cfg) as judge:
        results = [judge.judge(rule(), record) for _ in range(4)]
    assert all(r.judged_by == "rules" for r in results)
    assert "could not reach 127.0.0.1" in results[0].judge_note
    assert results[3].judge_note == "LLM judge not used: stopped after 2 failed requests in a row"
    assert judge.requests == 2 and judge.counts == {"fallback:connection": 2, "fallback:off": 2}


def test_a_server_refusing_json_mode_is_asked_without_it(fake, record):
    fake.queue += [(400, "response_format not supported"), fake.answer("met", [3])]
    with make_judge(config(fake)) as judge:
        assert judge.judge(rule(), record).state == "met"
        fake.queue.append(fake.answer("met", [3]))
        judge.judge(rule(), record)
    assert [("response_format" in r) for r in fake.requests] == [True, False, False]


# -- the safety rule --------------------------------------------------------------------------------

@pytest.mark.parametrize(("section", "rules", "label", "evidence", "closed", "state", "note"), [
    # disqualifying labels are taken, with or without citations
    ("exclusion", "not_met", "met", [3], False, "met", None),
    ("inclusion", "met", "not_met", [], False, "not_met", None),
    # unknown is taken: it only leaves the criterion open
    ("inclusion", "not_met", "unknown", [], False, "unknown", None),
    # letting the patient through against a disqualifying rule result: left open
    ("inclusion", "not_met", "met", [1], False, "unknown", "the model said met but the rules found not_met"),
    ("exclusion", "met", "not_met", [2], False, "unknown", "the model said not_met but the rules found met"),
    ("exclusion", "met", "not_applicable", [0], False, "unknown", "rules found met"),
    # letting the patient through without citing the record: left open ...
    ("inclusion", "unknown", "met", [], False, "unknown", "the model said met without citing the record"),
    ("exclusion", "unknown", "not_met", [], False, "unknown", "without citing the record"),
    # ... except silence on an exclusion read closed-world (the benchmark's reading)
    ("exclusion", "unknown", "not_met", [], True, "not_met", None),
    ("inclusion", "unknown", "met", [1], True, "met", None),
    ("unknown", "unknown", "met", [], False, "unknown", "without citing the record"),
])
def test_the_judge_may_disqualify_but_not_wave_through(fake, record, section, rules, label, evidence, closed,
                                                      state, note):
    fake.queue.append(fake.answer(label, evidence, "canned"))
    with make_judge(config(fake)) as judge:
        r = judge.judge(rule(section=section, state=rules), record, closed_world=closed)
    assert (r.state, r.judged_by) == (state, "llm")
    assert (r.judge_note is None) if note is None else (note in r.judge_note)
    assert (r.question is not None) == (state == "unknown")
    assert judge.counts == {("llm" if note is None else "left_open"): 1}
    prompt = fake.requests[0]["messages"][0]["content"]
    assert ("counts as absent" in prompt) == closed


# -- configuration ----------------------------------------------------------------------------------

def test_config_from_env():
    assert JudgeConfig.from_env({}) is None
    assert JudgeConfig.from_env({"TRIALSCOUT_LLM_MODEL": "m"}) is None
    cfg = JudgeConfig.from_env({"TRIALSCOUT_LLM_URL": " http://gpu:8000/v1/ ", "TRIALSCOUT_LLM_MODEL": "llama",
                                "TRIALSCOUT_LLM_KEY": "sk-secret", "TRIALSCOUT_LLM_TIMEOUT": "7.5"})
    assert (cfg.url, cfg.model, cfg.api_key, cfg.timeout, cfg.host) == (
        "http://gpu:8000/v1", "llama", "sk-secret", 7.5, "gpu:8000")
    assert "sk-secret" not in repr(cfg)
    cfg = JudgeConfig.from_env({"TRIALSCOUT_LLM_URL": "https://x/v1/chat/completions", "TRIALSCOUT_LLM_MODEL": "m"})
    assert (cfg.url, cfg.api_key, cfg.timeout) == ("https://x/v1", None, 30.0)
    with pytest.raises(JudgeConfigError, match="TRIALSCOUT_LLM_MODEL"):
        JudgeConfig.from_env({"TRIALSCOUT_LLM_URL": "http://x"})
    with pytest.raises(JudgeConfigError, match="TRIALSCOUT_LLM_TIMEOUT"):
        JudgeConfig.from_env({"TRIALSCOUT_LLM_URL": "http://x", "TRIALSCOUT_LLM_MODEL": "m",
                              "TRIALSCOUT_LLM_TIMEOUT": "soon"})
    with pytest.raises(JudgeConfigError, match="TRIALSCOUT_LLM_TIMEOUT"):
        JudgeConfig.from_env({"TRIALSCOUT_LLM_URL": "http://x", "TRIALSCOUT_LLM_MODEL": "m",
                              "TRIALSCOUT_LLM_TIMEOUT": "0"})
    with pytest.raises(JudgeConfigError, match="http"):
        JudgeConfig.from_env({"TRIALSCOUT_LLM_URL": "localhost:8000", "TRIALSCOUT_LLM_MODEL": "m"})


def test_without_a_key_no_authorization_is_sent(fake, record):
    fake.queue.append(fake.answer("met", [3]))
    with make_judge(JudgeConfig(url=fake.url, model="m")) as judge:
        judge.judge(rule(), record)
    assert "Authorization" not in fake.headers[0]


# -- records ----------------------------------------------------------------------------------------

def test_records_from_notes_and_structured_patients(record):
    assert [n for n, _ in record.lines] == [0, 1, 2, 3]
    assert {f.concept for f in record.facts[1]} == {"hypertension", "obesity"}
    plain = PatientText.from_note("Knows she has asthma. Takes no drugs.")
    assert plain.lines == ((1, "Knows she has asthma."), (2, "Takes no drugs."))
    person = load_patient(FIXTURES / "patients" / "dm-profile.yaml")
    structured = PatientText.from_patient(person)
    assert structured.lines[0] == (0, "Demographics: born 1975-03-14, sex female")
    text = dict(structured.lines)
    assert any(t.startswith("drug: prednisone, 25 mg, daily [current") for t in text.values())
    assert all(len(structured.facts[n]) == 1 for n in text if n)
    assert PatientText.from_patient(Patient()).lines == ((0, "Demographics: not stated"),)
    assert record.shown(60) == record.lines[:1] and record.shown(10_000) == record.lines


def test_long_records_are_cut_and_only_shown_lines_can_be_cited(fake):
    long = PatientText(tuple((n, f"sentence {n} " + "x" * 90) for n in range(50)))
    fake.queue += [fake.answer("met", [10]), fake.answer("met", [49])]
    with make_judge(config(fake, max_record_chars=2_000)) as judge:
        ok = judge.judge(rule(section="exclusion"), long)
        beyond = judge.judge(rule(section="exclusion"), long)
    assert ok.state == "met" and "evidence line 49 is not in the record (0-" in beyond.judge_note
    assert "49. sentence 49" not in fake.requests[0]["messages"][1]["content"]


# -- trials -----------------------------------------------------------------------------------------

def test_judged_matches_get_new_verdicts(fake):
    criteria = parse_criteria("Inclusion Criteria:\n* Age 18 years or older\n* Diagnosis of asthma\n"
                              "Exclusion Criteria:\n* Active smoker\n")
    person = patient_from_note("0. A 40-year-old man with asthma.\n1. He smokes a pack a day.\n")
    plain = match_criteria("T1", criteria, person, TODAY)
    record = PatientText.from_note("0. A 40-year-old man with asthma.\n1. He smokes a pack a day.\n", person)

    def responder(body):
        user = body["messages"][1]["content"]
        if "Active smoker" in user:
            return fake.answer("met", [1], "Smokes a pack a day.")
        return fake.answer("met", [0], "Adult with asthma.")

    fake.responder = responder
    with make_judge(config(fake)) as judge:
        (m,) = judge_matches([plain], judge, record, top=5)
    assert m.verdict == "ineligible" and [c.text for c in m.criteria if c.id in m.deciding] == ["Active smoker"]
    assert all(c.judged_by == "llm" for c in m.criteria if c.parent is None)
    assert len(fake.requests) == len([c for c in plain.criteria if c.parent is None])


def test_unjudged_verdicts_agree_with_the_rule_engine(fake, record):
    """judge_matches recomputes verdicts with evaluate.match_criteria's rule: the two must not drift."""
    fake.responder = lambda body: (500, "down")
    from trialscout.data import demo_corpus
    from trialscout.sources import read_path

    trials = [t for p in demo_corpus() if p.name == "seed-trials.json" for t in read_path(p)]
    person = load_patient(FIXTURES / "patients" / "dm-profile.yaml")
    plain = [match_criteria(t.id, parse_criteria((t.eligibility and t.eligibility.criteria) or ""), person,
                            TODAY, t.title) for t in trials]
    with make_judge(config(fake, max_failures=1)) as judge:
        judged = judge_matches(plain, judge, PatientText.from_patient(person), top=len(plain))
    assert len(plain) >= 3
    by_id = {m.trial: m for m in judged}
    for m in plain:
        assert by_id[m.trial].model_dump(exclude={"criteria"}) == m.model_dump(exclude={"criteria"})
        assert [c.state for c in by_id[m.trial].criteria] == [c.state for c in m.criteria]


# -- the command line -------------------------------------------------------------------------------

def _pairs(tmp_path) -> Path:
    pairs = [{"patient_id": "p1", "note": NOTE, "criterion_type": t, "criterion_text": text,
              "expert_eligibility": label}
             for t, text, label in (("exclusion", "History of breast cancer", "excluded"),
                                    ("inclusion", "Chest pain", "included"),
                                    ("exclusion", "Diabetes mellitus", "not excluded"))]
    path = tmp_path / "pairs.json"
    path.write_text(json.dumps(pairs))
    return path


def test_judge_flag_without_configuration_is_a_one_line_error(no_env, tmp_path):
    for args in (["eval", "criteria", str(_pairs(tmp_path)), "--judge"],
                 ["match", str(FIXTURES / "patients" / "dm-note.txt"), "--judge", "--db", str(tmp_path / "x.db")]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2
        assert result.output.strip() == f"trialscout: error: {ENV_HELP}"
        assert "TRIALSCOUT_LLM_URL" in result.output and "TRIALSCOUT_LLM_MODEL" in result.output


def test_without_the_flag_nothing_is_called(fake, monkeypatch, tmp_path):
    monkeypatch.setenv("TRIALSCOUT_LLM_URL", fake.url)
    monkeypatch.setenv("TRIALSCOUT_LLM_MODEL", "fake-model")
    result = CliRunner().invoke(app, ["eval", "criteria", str(_pairs(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    assert "judge" not in json.loads(result.stdout) and fake.requests == []
    (plain,) = evaluate_criteria(parse_criteria("Inclusion Criteria:\n* Asthma\n"), Patient(), TODAY)
    assert (plain.judged_by, plain.judge_note, plain.evidence_sentences) == ("rules", None, [])


def test_eval_criteria_with_the_judge(fake, monkeypatch, tmp_path):
    monkeypatch.setenv("TRIALSCOUT_LLM_URL", fake.url)
    monkeypatch.setenv("TRIALSCOUT_LLM_MODEL", "fake-model")
    monkeypatch.setenv("TRIALSCOUT_LLM_TIMEOUT", "2")
    fake.queue += [fake.answer("met", [3], "cancer"), fake.answer("met", [0], "chest pain"), (200, "nonsense")]
    result = CliRunner().invoke(app, ["eval", "criteria", str(_pairs(tmp_path)), "--judge", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["judge"] == {"fallback:malformed": 1, "llm": 2}
    assert data["accuracy"] == 1.0  # the third pair: the rules' closed-world "not excluded"
    assert len(fake.requests) == 3
    assert ["counts as absent" in r["messages"][0]["content"] for r in fake.requests] == [True, False, True]
    fake.responder = lambda body: fake.answer("unknown")
    text = CliRunner().invoke(app, ["eval", "criteria", str(_pairs(tmp_path)), "--judge"])
    assert text.exit_code == 0 and "LLM judge (fake-model at 127.0.0.1:" in text.output and "llm 3" in text.output


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory) -> Path:
    """A store with just the bundled seed trials (quicker than the whole demo corpus)."""
    from trialscout.data import demo_corpus
    from trialscout.sources import read_paths
    from trialscout.store import ingest, open_store

    path = tmp_path_factory.mktemp("judge") / "seed.db"
    conn = open_store(path)
    ingest(conn, read_paths([p for p in demo_corpus() if p.name == "seed-trials.json"]))
    conn.close()
    return path


def test_match_with_the_judge(fake, monkeypatch, seed_store):
    db = seed_store
    monkeypatch.setenv("TRIALSCOUT_LLM_URL", fake.url)
    monkeypatch.setenv("TRIALSCOUT_LLM_MODEL", "fake-model")
    fake.responder = lambda body: (fake.answer("met", [1], "Takes prednisone 25 mg daily.")
                                   if "Prednisone dose greater than 20" in body["messages"][1]["content"]
                                   else fake.answer("unknown"))
    note = FIXTURES / "patients" / "dm-note.txt"
    args = ["match", str(note), "--db", str(db), "--trial", "NCT07012057", "--as-of", "2026-11-27"]
    result = CliRunner().invoke(app, [*args, "--judge", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (m,) = data["results"]
    assert m["verdict"] == "ineligible" and data["judge"]["llm"] == len(fake.requests) > 0
    pred = next(c for c in m["criteria"] if c["text"].startswith("Prednisone dose greater than 20"))
    assert (pred["state"], pred["judged_by"], pred["evidence_sentences"]) == ("met", "llm", [1])
    assert "1. She takes prednisone 25 mg daily" in fake.requests[0]["messages"][1]["content"]
    shown = CliRunner().invoke(app, [*args, "--judge"])
    assert shown.exit_code == 0 and "model: Takes prednisone 25 mg daily. (line 1)" in shown.output
    calls = len(fake.requests)
    plain = CliRunner().invoke(app, [*args, "--json"])
    assert len(fake.requests) == calls and "judge" not in json.loads(plain.stdout)
    assert all(c["judged_by"] == "rules" for c in json.loads(plain.stdout)["results"][0]["criteria"])
