"""Issue 19 (part 1): `tagger serve` -- a real uvicorn process on loopback, started by the test.

The JSON of POST /v1/tag is what `tagger predict` writes; limits give 413 with the index, bad bodies 422 with the
field; /health, /ready, /metrics; concurrent requests are merged into batches; SIGTERM lets a request in flight
finish; the page at / is self-contained and, where chromium is installed, draws the entities and topics."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from conftest import SENTENCES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEXTS = SENTENCES[:6] + ["", "كينيا"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, model: Path, *options: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tagger.cli", "serve", str(model), "--port", str(self.port), *options],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"tagger serve exited with {self.proc.returncode}: {self.proc.stdout.read()[-3000:]}")
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail("tagger serve did not become ready within 180 s")

    def post(self, body, **kw) -> httpx.Response:
        return httpx.post(self.url + "/v1/tag", json=body, timeout=kw.pop("timeout", 60), **kw)

    def metrics(self) -> dict[str, float]:
        text = httpx.get(self.url + "/metrics", timeout=10).text
        return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line and not line.startswith("#")}

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, trained_ner, trained_topics) -> Path:
    root = tmp_path_factory.mktemp("serve") / "bundle"
    shutil.copytree(trained_ner, root / "ner")
    shutil.copytree(trained_topics, root / "topics")
    return root


@pytest.fixture(scope="module")
def tagger(bundle):
    from tagger import Tagger

    return Tagger.from_pretrained(bundle)


@pytest.fixture(scope="module")
def server(bundle):
    srv = Server(bundle, "--max-wait-ms", "30", "--max-texts", "10", "--max-chars", "3000")
    yield srv
    srv.stop()


def _same(got: list[dict], want: list[dict]) -> None:
    """Equal records; scores to 1e-5 (the server runs in another process, possibly with other thread counts)."""
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert list(g) == list(w)
        assert {k: v for k, v in g.items() if k not in ("entities", "topic_scores")} == \
               {k: v for k, v in w.items() if k not in ("entities", "topic_scores")}
        assert [{k: v for k, v in e.items() if k != "score"} for e in g["entities"]] == \
               [{k: v for k, v in e.items() if k != "score"} for e in w["entities"]]
        assert [e["score"] for e in g["entities"]] == pytest.approx([e["score"] for e in w["entities"]], abs=1e-5)
        assert list(g["topic_scores"]) == list(w["topic_scores"])
        assert list(g["topic_scores"].values()) == pytest.approx(list(w["topic_scores"].values()), abs=1e-5)


def test_issue_19_tag_equals_tagger_predict_json(server, tagger):
    r = server.post({"texts": TEXTS})
    assert r.status_code == 200, r.text
    _same(r.json()["results"], [p.to_dict() for p in tagger.predict(TEXTS)])
    assert set(r.json()["results"][0]) == {"text", "entities", "topics", "topic_scores"}


def test_issue_19_documents_keep_their_ids(server, tagger):
    docs = [{"id": "a-1", "text": TEXTS[0]}, {"id": 7, "text": TEXTS[3]}, {"text": TEXTS[4]}]
    r = server.post({"documents": docs})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [res.get("id") for res in results] == ["a-1", 7, None]
    assert list(results[0])[0] == "id" and "id" not in results[2]  # as `tagger predict` writes them
    _same([{k: v for k, v in res.items() if k != "id"} for res in results],
          [p.to_dict() for p in tagger.predict([d["text"] for d in docs])])


def test_issue_19_per_call_thresholds_change_topic_decisions(server, tagger):
    labels = tagger.topic_labels
    everything = server.post({"texts": TEXTS[:3], "thresholds": dict.fromkeys(labels, 0.0)}).json()["results"]
    assert all(res["topics"] == labels for res in everything)
    nothing = server.post({"texts": TEXTS[:3], "thresholds": dict.fromkeys(labels, 1.0)}).json()["results"]
    assert all(res["topics"] == [] for res in nothing)
    one = {labels[0]: 0.0}
    got = server.post({"texts": TEXTS, "thresholds": one}).json()["results"]
    _same(got, [p.to_dict() for p in tagger.predict(TEXTS, thresholds=one)])


def test_issue_19_limits_are_413_with_the_index(server):
    r = server.post({"texts": ["نص"] * 11})
    assert r.status_code == 413
    body = r.json()
    assert body["limit"] == "max_texts" and body["index"] == 10 and body["max"] == 10
    assert "max_texts" in body["error"] and "texts[10]" in body["error"]
    r = server.post({"documents": [{"text": "قصير"}, {"id": "x", "text": "ك" * 3001}]})
    assert r.status_code == 413
    body = r.json()
    assert body["limit"] == "max_chars" and body["index"] == 1 and "texts[1]" in body["error"]


@pytest.mark.parametrize(("body", "field"), [
    ({"texts": ["a", 3]}, "texts[1]"),
    ({"text": ["a"]}, "text"),
    ({"documents": [{"id": "a"}]}, "documents[0].text"),
    ({"texts": ["a"], "thresholds": {"space": 2}}, "thresholds.space"),
    ({"texts": ["a"], "thresholds": {"no-such-label": 0.5}}, "thresholds.no-such-label"),
])
def test_issue_19_bad_body_is_422_naming_the_field(server, body, field):
    r = server.post(body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and field in r.json()["error"]


def test_issue_19_invalid_json_and_neither_input_are_422(server):
    r = httpx.post(server.url + "/v1/tag", content=b'{"texts": [', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body"
    r = server.post({"thresholds": {}})
    assert r.status_code == 422 and "texts" in r.json()["error"] and "documents" in r.json()["error"]


def test_issue_19_health_ready_metrics(server):
    assert httpx.get(server.url + "/health").json() == {"status": "alive"}
    assert httpx.get(server.url + "/ready").json() == {"status": "ready"}
    before = server.metrics()
    assert server.post({"texts": TEXTS[:2]}).status_code == 200
    assert server.post({"texts": ["x"] * 11}).status_code == 413
    after = server.metrics()
    ok = 'tagger_requests_total{method="POST",path="/v1/tag",status="200"}'
    too_big = 'tagger_requests_total{method="POST",path="/v1/tag",status="413"}'
    assert after[ok] == before.get(ok, 0) + 1 and after[too_big] == before.get(too_big, 0) + 1
    assert after['tagger_errors_total{kind="client"}'] == before['tagger_errors_total{kind="client"}'] + 1
    assert after["tagger_texts_total"] == before["tagger_texts_total"] + 2
    assert after["tagger_request_duration_seconds_count"] == before["tagger_request_duration_seconds_count"] + 2
    assert after['tagger_request_duration_seconds_bucket{le="+Inf"}'] == after["tagger_request_duration_seconds_count"]
    assert after["tagger_batch_texts_count"] == before["tagger_batch_texts_count"] + 1
    assert after["tagger_queue_depth"] == 0
    model = httpx.get(server.url + "/v1/model").json()
    assert model["topic_labels"] and set(model["thresholds"]) == set(model["topic_labels"])


def test_issue_19_concurrent_requests_are_batched(server, tagger):
    before = server.metrics()
    texts = [SENTENCES[i % len(SENTENCES)] for i in range(24)]
    results: dict[int, httpx.Response] = {}
    barrier = threading.Barrier(len(texts))

    def call(i: int) -> None:
        barrier.wait()
        results[i] = server.post({"documents": [{"id": i, "text": texts[i]}]})

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(results) == list(range(len(texts)))
    assert all(r.status_code == 200 for r in results.values())
    want = [p.to_dict() for p in tagger.predict(texts)]
    for i, r in results.items():
        (res,) = r.json()["results"]
        assert res["id"] == i
        _same([{k: v for k, v in res.items() if k != "id"}], [want[i]])
    after = server.metrics()
    batches = after["tagger_batch_requests_count"] - before["tagger_batch_requests_count"]
    singles = after['tagger_batch_requests_bucket{le="1"}'] - before['tagger_batch_requests_bucket{le="1"}']
    assert after["tagger_texts_total"] - before["tagger_texts_total"] == len(texts)
    assert batches < len(texts) and singles < batches  # requests were merged: some batch held more than one


def test_issue_19_sigterm_lets_the_request_in_flight_finish(bundle):
    srv = Server(bundle, "--max-texts", "256", "--max-chars", "100000")
    try:
        long_text = " ".join(SENTENCES) * 30  # ~20k characters: many windows per text
        box: dict = {}

        def call() -> None:
            box["response"] = srv.post({"texts": [long_text] * 40}, timeout=300)
            box["at"] = time.monotonic()

        worker = threading.Thread(target=call)
        worker.start()
        deadline = time.monotonic() + 60
        while srv.metrics()["tagger_batch_texts_count"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the model call has started
        assert worker.is_alive(), "the request finished before SIGTERM; make it slower"
        sent = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        worker.join(300)
        # uvicorn re-raises the signal after its graceful shutdown: exit status -SIGTERM (0 with older uvicorn)
        assert srv.proc.wait(timeout=120) in (0, -signal.SIGTERM)
    finally:
        srv.stop()
    response = box["response"]
    assert response.status_code == 200 and box["at"] > sent, (response.status_code, box["at"] - sent)
    print(f"request answered {box['at'] - sent:.2f} s after SIGTERM")
    results = response.json()["results"]
    assert len(results) == 40 and all(r["text"] == long_text for r in results)


def test_issue_19_page_is_self_contained_and_draws_in_chromium(server, tmp_path):
    html = httpx.get(server.url + "/").text
    assert html.startswith("<!DOCTYPE html>") and 'dir="rtl"' in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"https?://", html)
    assert "v1/tag" in html and "fetch(" in html
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium): the page was not drawn")
    # the text with the most entities, so that the marks are checked where there are some
    tagged = server.post({"texts": SENTENCES}).json()["results"]
    best = max(tagged, key=lambda r: len(r["entities"]))
    url = f"{server.url}/?text={quote(best['text'])}"
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=15000"]
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert 'data-done="1"' in dom, dom[-2000:]
    marks = re.findall(r'<mark class="ent" data-label="([A-Z]+)"', dom)
    assert marks == [e["label"] for e in best["entities"]]
    assert len(re.findall(r'class="topic( on)?" data-topic=', dom)) == len(best["topic_scores"])
    shot = tmp_path / "page.png"
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1200,800", url], capture_output=True, timeout=120)
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_issue_19_core_import_does_not_need_fastapi():
    code = ("import sys; sys.modules['fastapi'] = None; import tagger, tagger.cli, tagger.serve; "
            "from tagger.errors import TaggerError\n"
            "try:\n    tagger.serve.create_app('x')\nexcept TaggerError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install 'arabic-tagger[serve]'" in out.stdout


def test_issue_19_missing_model_is_one_line_and_exit_2(tmp_path):
    out = subprocess.run([sys.executable, "-m", "tagger.cli", "serve", str(tmp_path / "nope"), "--port", "1"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "no such model directory" in out.stderr
    assert out.stdout == ""  # the server never started
