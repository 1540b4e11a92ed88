"""Issue 18 (part 2): annotate in Label Studio / Doccano and come back exactly (offline, no model)."""

from __future__ import annotations

import json
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import ROOT

from tagger.annotate import build_tasks, import_annotations, labeling_config, write_records, write_tasks
from tagger.annotate.spans import utf16_offset
from tagger.cli import main
from tagger.data.io import read_jsonl
from tagger.errors import ConfigError, DataError, OutputError
from tagger.schema import DEFAULT_TOPICS, ENTITY_LABELS, Entity, Prediction, TopicPrediction

NFD = "NFD"


def _span(text: str, surface: str, label: str, nth: int = 0) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return {"start": start, "end": start + len(surface), "label": label}


def _extra_records() -> list[dict]:
    emoji = "أطلقت 🚀 سبيس إكس قمرا 🛰️ من فلوريدا"
    madda = unicodedata.normalize(NFD, "زار آدم سميث القاهرة وأعلنت آمنة")  # U+0627 U+0653, not U+0622
    tashkeel = unicodedata.normalize(NFD, "قالَ مُحَمَّدٌ إنَّ آلاء وصلت إلى دُبَيّ")
    crlf = "السطر الأول عن الشبكة\r\nزار محمد دبي أمس\r\nثم توجه إلى الرياض"
    both = "🚀🛰️ أول سطر\r\nأعلنت ناسا 🌍 عن مهمة\r\nإلى القمر مع سبيس إكس غدا"
    return [
        {"id": "x-emoji", "text": emoji, "entities": [_span(emoji, "سبيس إكس", "ORG"), _span(emoji, "فلوريدا", "LOC")],
         "topics": ["space"]},
        {"id": "x-nfd", "text": madda, "entities": [_span(madda, unicodedata.normalize(NFD, "آدم سميث"), "PER"),
                                                     _span(madda, "القاهرة", "LOC")], "topics": []},
        {"id": "x-tashkeel", "text": tashkeel, "entities": [_span(tashkeel, unicodedata.normalize(NFD, "مُحَمَّدٌ"), "PER"),
                                                             _span(tashkeel, unicodedata.normalize(NFD, "دُبَيّ"), "LOC")],
         "topics": []},
        {"id": "x-crlf", "text": crlf, "entities": [_span(crlf, "محمد", "PER"), _span(crlf, "دبي", "LOC"),
                                                     _span(crlf, "الرياض", "LOC")], "topics": ["5G"]},
        {"id": "x-both", "text": both, "entities": [_span(both, "ناسا", "ORG"), _span(both, "سبيس إكس", "ORG")],
         "topics": ["space", "5G"]},
    ]


def _seed_records() -> list[dict]:
    out = []
    for name in ("train", "dev", "test"):
        with (ROOT / "seeds" / f"{name}.jsonl").open(encoding="utf-8") as fh:
            out += [json.loads(line) for line in fh if line.strip()]
    return out


def _prediction(record: dict) -> Prediction:
    text = record["text"]
    entities = tuple(Entity(text[e["start"]:e["end"]], e["label"], e["start"], e["end"], 0.91)
                     for e in record["entities"])
    scores = {t: (0.8 if t in record["topics"] else 0.1) for t in DEFAULT_TOPICS}
    return Prediction(text, entities, TopicPrediction(tuple(record["topics"]), scores, dict.fromkeys(DEFAULT_TOPICS, 0.5)))


def _accept(tasks: list[dict], annotator=7) -> list[dict]:
    """A Label Studio JSON export in which an annotator submitted every pre-annotation as it was."""
    return [{"id": k + 1, "data": task["data"], "predictions": task.get("predictions", []),
             "annotations": [{"id": 1000 + k, "completed_by": annotator, "was_cancelled": False,
                              "created_at": "2025-01-02T10:00:00.000000Z", "updated_at": "2025-01-02T10:00:00.000000Z",
                              "lead_time": 3.5, "result": json.loads(json.dumps(task["predictions"][0]["result"]))}]}
            for k, task in enumerate(tasks)]


def _core(records: list[dict]) -> list[tuple]:
    return [(r["id"], r["text"], r["entities"], r.get("topics")) for r in records]


def _dump(path: Path, data) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _export(text: str, result: list[dict], *, doc_id: str = "d1", task_id: int = 5, **ann) -> list[dict]:
    annotation = {"id": 50, "completed_by": 3, "was_cancelled": False, "result": result, **ann}
    return [{"id": task_id, "data": {"text": text, "doc_id": doc_id}, "annotations": [annotation]}]


def _region(start: int, end: int, label: str, text: str | None) -> dict:
    value = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        value["text"] = text
    return {"id": f"r{start}", "from_name": "label", "to_name": "text", "type": "labels", "value": value}


# ---------------------------------------------------------------------------------------------- round trips
def test_issue_18_labelstudio_round_trip_is_lossless_on_seeds_and_hard_texts(tmp_path):
    records = _seed_records() + _extra_records()
    assert len(records) > 400
    paths = write_tasks(tmp_path / "ls", records, [_prediction(r) for r in records], entity_labels=ENTITY_LABELS,
                        topic_labels=DEFAULT_TOPICS, model_version="m1")
    assert {p.name for p in paths.values()} == {"tasks.json", "labeling_config.xml", "doccano.jsonl"}
    tasks = json.loads(paths["tasks"].read_text(encoding="utf-8"))
    first = tasks[0]
    assert first["data"]["doc_id"] == records[0]["id"] and first["data"]["text"] == records[0]["text"]
    pred = first["predictions"][0]
    assert pred["model_version"] == "m1" and pred["score"] == pytest.approx(0.8)
    ent = next(r for r in pred["result"] if r["type"] == "labels")
    assert ent["from_name"] == "label" and ent["to_name"] == "text"
    assert ent["value"]["text"] == records[0]["text"][ent["value"]["start"]:ent["value"]["end"]]
    emoji_task = next(t for t in tasks if t["data"]["doc_id"] == "x-emoji")
    spans = [r["value"] for r in emoji_task["predictions"][0]["result"] if r["type"] == "labels"]
    assert [s["start"] for s in spans] == [e["start"] for e in _extra_records()[0]["entities"]]  # code points

    result = import_annotations(_dump(tmp_path / "export.json", _accept(tasks)))
    assert result.format == "labelstudio" and not result.skipped and not result.repairs
    assert _core(result.records) == _core(records)
    assert all(r["annotator"] == 7 for r in result.records) and result.records[0]["source_task"] == 1

    out = tmp_path / "data.jsonl"
    write_records(out, result.records)
    docs = read_jsonl(out)
    assert [(d.id, d.text, [(s.start, s.end, s.label) for s in d.entities], d.topics) for d in docs] == [
        (r["id"], r["text"], [(e["start"], e["end"], e["label"]) for e in r["entities"]], r["topics"]) for r in records]


def test_issue_18_doccano_round_trip(tmp_path):
    records = _seed_records()[:40] + _extra_records()
    paths = write_tasks(tmp_path, records, [_prediction(r) for r in records], entity_labels=ENTITY_LABELS,
                        topic_labels=DEFAULT_TOPICS)
    lines = [json.loads(x) for x in paths["doccano"].read_text(encoding="utf-8").splitlines()]
    assert set(lines[0]) == {"text", "entities", "cats", "doc_id"}
    # Doccano's export: its own id first, our doc_id kept as metadata
    exported = tmp_path / "admin.jsonl"
    exported.write_text("".join(json.dumps({"id": k + 1, **line}, ensure_ascii=False) + "\n"
                                for k, line in enumerate(lines)), encoding="utf-8")
    result = import_annotations(exported)
    assert result.format == "doccano" and not result.skipped and not result.repairs
    assert _core(result.records) == _core(records)


def test_issue_18_doccano_single_task_layouts_and_utf16_offsets(tmp_path):
    extra = _extra_records()[0]
    text = extra["text"]
    _, lines = build_tasks([extra], entity_labels=ENTITY_LABELS, topic_labels=[])
    assert set(lines[0]) == {"text", "label", "doc_id"} and lines[0]["label"][0][2] == "ORG"
    _, lines = build_tasks([extra], entity_labels=[], topic_labels=DEFAULT_TOPICS)
    assert lines[0]["label"] == ["space"]
    # a Doccano that counted JavaScript (UTF-16) offsets: no span text to check, the word boundaries decide
    spans = [[utf16_offset(text, e["start"]), utf16_offset(text, e["end"]), e["label"]] for e in extra["entities"]]
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": 1, "text": text, "label": spans}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = import_annotations(path, fmt="doccano")
    assert result.records[0]["entities"] == extra["entities"] and result.repairs == {"utf16": 2}
    assert "topics" not in result.records[0]  # a sequence-labelling project says nothing about topics


# ---------------------------------------------------------------------------------------------- repairs
def test_issue_18_utf16_code_unit_offsets_are_converted(tmp_path):
    rec = _extra_records()[0]
    text = rec["text"]
    result = [_region(utf16_offset(text, e["start"]), utf16_offset(text, e["end"]), e["label"],
                      text[e["start"]:e["end"]]) for e in rec["entities"]]
    assert result[0]["value"]["start"] != rec["entities"][0]["start"]
    got = import_annotations(_dump(tmp_path / "e.json", _export(text, result)))
    assert got.records[0]["entities"] == rec["entities"] and got.repairs == {"utf16": 2}


@pytest.mark.parametrize("flip", ["crlf", "lf-crlf"])
def test_issue_18_line_break_normalisation_maps_back_onto_our_text(tmp_path, flip):
    if flip == "crlf":  # ours has CRLF, the tool counted on LF
        ours = _extra_records()[3]["text"]
        tool = ours.replace("\r\n", "\n")
    else:  # ours has LF, the tool counted on CRLF
        ours = "سطر أول\nزار محمد دبي\nثم الرياض"
        tool = ours.replace("\n", "\r\n")
    regions = [_region(tool.index(w), tool.index(w) + len(w), lab, w) for w, lab in (("محمد", "PER"), ("الرياض", "LOC"))]
    got = import_annotations(_dump(tmp_path / "e.json", _export(ours, regions)))
    assert got.records[0]["text"] == ours
    assert got.records[0]["entities"] == [_span(ours, "محمد", "PER"), _span(ours, "الرياض", "LOC")]
    assert got.repairs == {flip: 2}


@pytest.mark.parametrize("ours_form,tool_form", [("NFD", "NFC"), ("NFC", "NFD")])
def test_issue_18_nfc_nfd_offsets_map_back_onto_our_text(tmp_path, ours_form, tool_form):
    base = "قالَ مُحَمَّدٌ إنَّ آلاء وصلت إلى دُبَيّ مع آدم"
    ours, tool = unicodedata.normalize(ours_form, base), unicodedata.normalize(tool_form, base)
    assert ours != tool
    words = [("مُحَمَّدٌ", "PER"), ("دُبَيّ", "LOC"), ("آدم", "PER")]
    regions = []
    for word, label in words:
        w = unicodedata.normalize(tool_form, word)
        regions.append(_region(tool.index(w), tool.index(w) + len(w), label, w))
    got = import_annotations(_dump(tmp_path / "e.json", _export(ours, regions)))
    expected = [_span(ours, unicodedata.normalize(ours_form, w), lab) for w, lab in words]
    assert got.records[0]["entities"] == expected and got.records[0]["text"] == ours
    moved = sum(ours[r["value"]["start"]:r["value"]["end"]] != r["value"]["text"] for r in regions)
    assert moved >= 2 and got.repairs == {tool_form.lower(): moved}  # a span before the first change needs none


def test_issue_18_combined_repairs_and_trim(tmp_path):
    rec = _extra_records()[4]
    ours = rec["text"]
    tool = ours.replace("\r\n", "\n")  # LF and JavaScript offsets, with a space selected after the name
    regions = []
    for e in rec["entities"]:
        word = ours[e["start"]:e["end"]]
        a = tool.index(word)
        regions.append(_region(utf16_offset(tool, a), utf16_offset(tool, a + len(word) + 1), e["label"], word + " "))
    got = import_annotations(_dump(tmp_path / "e.json", _export(ours, regions)))
    assert got.records[0]["entities"] == rec["entities"]
    assert got.repairs == {"crlf": 2, "utf16": 2, "trim": 2}
    # the tool's copy of the text may itself differ in normalisation only
    text = "زار آدم القاهرة"
    region = _region(4, 7, "PER", unicodedata.normalize(NFD, "آدم"))
    got = import_annotations(_dump(tmp_path / "f.json", _export(text, [region])))
    assert got.records[0]["entities"] == [{"start": 4, "end": 7, "label": "PER"}] and got.repairs == {"text-form": 1}


# ---------------------------------------------------------------------------------------------- refusals
def test_issue_18_span_text_that_disagrees_beyond_repair(tmp_path):
    text = "زار محمد دبي أمس"
    path = _dump(tmp_path / "e.json", _export(text, [_region(4, 8, "PER", "أحمد")], task_id=42))
    with pytest.raises(DataError) as err:
        import_annotations(path)
    msg = str(err.value)
    assert "task 42" in msg and "annotation 50" in msg and "'أحمد'" in msg and "[4, 8)" in msg
    skipped = import_annotations(path, on_error="skip")
    assert not skipped.records and skipped.skipped[0].task == 42 and skipped.skipped[0].kind == "invalid"


@pytest.mark.parametrize("regions,expect", [
    ([_region(5, 8, "PER", "حمد")], "starts inside a word"),
    ([_region(4, 40, "PER", None)], "out of range"),
    ([_region(4, 12, "PER", "محمد دبي"), _region(9, 12, "LOC", "دبي")], "overlap"),
    ([{"type": "labels", "value": {"start": 4, "end": 8, "labels": ["PER", "ORG"], "text": "محمد"}}], "one label"),
])
def test_issue_18_bad_spans_name_the_task(tmp_path, regions, expect):
    with pytest.raises(DataError, match=expect) as err:
        import_annotations(_dump(tmp_path / "e.json", _export("زار محمد دبي أمس", regions, task_id=9)))
    assert "task 9" in str(err.value)


def test_issue_18_cancelled_and_unannotated_tasks_are_skipped(tmp_path):
    export = _export("زار محمد دبي", [_region(4, 8, "PER", "محمد")], task_id=1)
    export += _export("زار علي مصر", [], task_id=2, doc_id="d2", was_cancelled=True)
    export.append({"id": 3, "data": {"text": "نص بلا تعليق", "doc_id": "d3"}, "annotations": []})
    got = import_annotations(_dump(tmp_path / "e.json", export))
    assert [r["id"] for r in got.records] == ["d1"]
    assert {(s.task, s.kind) for s in got.skipped} == {(2, "cancelled"), (3, "no annotation")}
    assert got.summary() == ("imported 1 documents, 1 entities, 0 topics; 2 skipped: 1 cancelled, 1 no annotation")


def test_issue_18_several_annotators(tmp_path):
    text = "زار محمد دبي"
    old = {"id": 1, "completed_by": 3, "was_cancelled": False, "updated_at": "2025-01-01T09:00:00Z",
           "result": [_region(4, 8, "PER", "محمد")]}
    new = {"id": 2, "completed_by": 4, "was_cancelled": False, "updated_at": "2025-01-03T09:00:00Z",
           "result": [_region(4, 8, "PER", "محمد"), _region(9, 12, "LOC", "دبي"),
                      {"from_name": "topics", "to_name": "text", "type": "choices", "value": {"choices": ["5G"]}}]}
    dropped = {"id": 3, "completed_by": 5, "was_cancelled": True, "updated_at": "2025-02-01T09:00:00Z", "result": []}
    path = _dump(tmp_path / "e.json", [{"id": 8, "data": {"text": text, "doc_id": "d"}, "annotations": [old, new, dropped]}])
    latest = import_annotations(path).records
    assert len(latest) == 1 and latest[0]["annotator"] == 4 and len(latest[0]["entities"]) == 2
    assert latest[0]["topics"] == ["5G"]
    every = import_annotations(path, annotations="all").records
    assert [(r["id"], r["annotator"], r["topics"]) for r in every] == [("d#1", 3, []), ("d#2", 4, ["5G"])]
    mine = import_annotations(path, annotations="annotator:3").records
    assert mine[0]["annotator"] == 3 and mine[0]["entities"] == [{"start": 4, "end": 8, "label": "PER"}]
    nobody = import_annotations(path, annotations="annotator:99")
    assert not nobody.records and nobody.skipped[0].kind == "other annotator"
    with pytest.raises(ConfigError):
        import_annotations(path, annotations="first")


def test_issue_18_json_min_export(tmp_path):
    text = "أطلقت ناسا قمرا من فلوريدا"
    items = [{"id": 4, "text": text, "doc_id": "m1", "annotator": 2, "annotation_id": 11,
              "updated_at": "2025-01-01T00:00:00Z",
              "label": [{"start": 6, "end": 10, "text": "ناسا", "labels": ["ORG"]},
                        {"start": 19, "end": 26, "text": "فلوريدا", "labels": ["LOC"]}],
              "topics": "space"},
             {"id": 5, "text": "خبر آخر", "doc_id": "m2", "annotator": 2, "annotation_id": 12,
              "topics": {"choices": ["5G", "space"]}}]
    got = import_annotations(_dump(tmp_path / "min.json", items))
    assert got.format == "labelstudio-min"
    assert _core(got.records) == [("m1", text, [{"start": 6, "end": 10, "label": "ORG"},
                                                {"start": 19, "end": 26, "label": "LOC"}], ["space"]),
                                  ("m2", "خبر آخر", [], ["5G", "space"])]


def test_issue_18_unreadable_exports(tmp_path):
    bad = tmp_path / "cp1256.json"
    bad.write_bytes(b"[{\"data\": {\"text\": \"" + "نص".encode("cp1256") + b"\"}}]")
    with pytest.raises(DataError, match=r"cp1256.json:1: not UTF-8"):
        import_annotations(bad)
    broken = tmp_path / "broken.json"
    broken.write_text('[\n {"id": 1,\n  "data": }\n]', encoding="utf-8")
    with pytest.raises(DataError, match=r"broken.json:3:\d+: not valid JSON"):
        import_annotations(broken)
    lines = tmp_path / "broken.jsonl"
    lines.write_text('{"text": "a", "label": []}\n{"text": \n', encoding="utf-8")
    with pytest.raises(DataError, match=r"broken.jsonl:2: not valid JSON"):
        import_annotations(lines)


# ---------------------------------------------------------------------------------------------- writing
def test_issue_18_labeling_config_variants():
    both = ET.fromstring(labeling_config(ENTITY_LABELS, DEFAULT_TOPICS))
    text = both.find(".//Text")
    assert text.get("name") == "text" and text.get("value") == "$text"
    assert "rtl" in both.find(".//View[@style]").get("style")
    labels = both.find("Labels")
    assert labels.get("name") == "label" and labels.get("toName") == "text"
    assert [x.get("value") for x in labels] == list(ENTITY_LABELS)
    choices = both.find("Choices")
    assert choices.get("name") == "topics" and choices.get("choice") == "multiple"
    assert [x.get("value") for x in choices] == list(DEFAULT_TOPICS)
    assert ET.fromstring(labeling_config(["PER", 'A"&<B'], [])).find("Choices") is None
    assert ET.fromstring(labeling_config([], ["space"])).find("Labels") is None
    with pytest.raises(ConfigError):
        labeling_config([], [])


def test_issue_18_write_tasks_refuses_to_overwrite_and_ids_are_stable(tmp_path):
    records = [{"text": "زار محمد دبي", "entities": [{"start": 4, "end": 8, "label": "PER"}], "topics": ["5G"]},
               {"text": "خبر بلا معرف"}]
    paths = write_tasks(tmp_path, records, entity_labels=ENTITY_LABELS, topic_labels=DEFAULT_TOPICS)
    tasks = json.loads(paths["tasks"].read_text(encoding="utf-8"))
    assert tasks[0]["predictions"][0]["result"][0]["value"]["labels"] == ["PER"]  # the records' own labels
    assert "predictions" not in tasks[1]
    before = paths["tasks"].read_bytes()
    with pytest.raises(OutputError, match="exists"):
        write_tasks(tmp_path, records, entity_labels=ENTITY_LABELS, topic_labels=DEFAULT_TOPICS)
    assert paths["tasks"].read_bytes() == before
    again = write_tasks(tmp_path, records, entity_labels=ENTITY_LABELS, topic_labels=DEFAULT_TOPICS, overwrite=True)
    ids = [t["data"]["doc_id"] for t in json.loads(again["tasks"].read_text(encoding="utf-8"))]
    assert ids == [t["data"]["doc_id"] for t in tasks] and ids[0].startswith("doc-")
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(ConfigError, match="not in entity_labels"):
        build_tasks(records, entity_labels=["LOC"], topic_labels=DEFAULT_TOPICS)
    wrong = [Prediction("نص آخر")]
    with pytest.raises(DataError, match="another text"):
        build_tasks(records[:1], wrong, entity_labels=ENTITY_LABELS, topic_labels=DEFAULT_TOPICS)


# ---------------------------------------------------------------------------------------------- CLI
def test_issue_18_cli_import_annotations(tmp_path, capsys):
    records = _extra_records()
    paths = write_tasks(tmp_path / "ls", records, [_prediction(r) for r in records], entity_labels=ENTITY_LABELS,
                        topic_labels=DEFAULT_TOPICS)
    export = _accept(json.loads(paths["tasks"].read_text(encoding="utf-8")))
    export[1]["annotations"][0]["was_cancelled"] = True
    src = _dump(tmp_path / "export.json", export)
    out = tmp_path / "data" / "new-label.jsonl"
    assert main(["import-annotations", str(src), "--out", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("imported 4 documents, 9 entities, 4 topics; 1 skipped: 1 cancelled")
    assert [d.id for d in read_jsonl(out)] == ["x-emoji", "x-tashkeel", "x-crlf", "x-both"]

    before = out.read_bytes()
    assert main(["import-annotations", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exists" in err[0] and out.read_bytes() == before
    assert main(["import-annotations", str(src), "--out", str(out), "--overwrite", "--annotations", "all"]) == 0
    capsys.readouterr()
    assert main(["import-annotations", str(src), "--out", str(src), "--overwrite"]) == 2
    assert "is the input" in capsys.readouterr().err

    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": 1, "data": {"text": "زار محمد دبي"}, "annotations": [{"id": 2, "result": '
                      '[{"type": "labels", "value": {"start": 4, "end": 8, "text": "أحمد", "labels": ["PER"]}}]}]}]',
                      encoding="utf-8")
    assert main(["import-annotations", str(broken), "--out", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tagger import-annotations: error:") and "task 1" in err[0]
    assert not (tmp_path / "x.jsonl").exists()
    assert main(["import-annotations", str(broken), "--out", str(tmp_path / "x.jsonl"), "--on-error", "skip"]) == 2
    assert "nothing to import" in capsys.readouterr().err
