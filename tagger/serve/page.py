"""The page at ``GET /``: paste Arabic text, see its entities highlighted right to left and its topics as score
bars against their thresholds. One self-contained document (inline CSS and JavaScript, no external asset); it
calls ``v1/model`` and ``v1/tag`` relative to itself, so it also works where the app is mounted under a prefix.
``/?text=...`` fills the box and tags it on load. Offsets are code points (Python's), so the script slices
``Array.from(text)``, not UTF-16 units."""

from __future__ import annotations

PAGE = """<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>arabic-tagger</title>
<style>
  :root { --PER:#f4b6c2; --ORG:#b6d7f4; --LOC:#bfeab5; --MISC:#f6dfa4; --other:#dddddd; }
  body { font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "DejaVu Sans", Tahoma, sans-serif; margin: 0;
         background: #f7f7f8; color: #1d1d1f; }
  main { max-width: 1100px; margin: 0 auto; padding: 18px 24px; }
  h1 { font-size: 20px; margin: 4px 0 12px; direction: ltr; text-align: left; font-family: sans-serif; }
  textarea { width: 100%; box-sizing: border-box; min-height: 110px; font-size: 18px; line-height: 1.7;
             padding: 10px; border: 1px solid #bbb; border-radius: 6px; font-family: inherit; }
  .bar { display: flex; gap: 10px; align-items: center; margin: 8px 0 16px; direction: ltr; }
  button { font-size: 15px; padding: 6px 18px; border-radius: 6px; border: 1px solid #2b6cb0; background: #2b6cb0;
           color: white; cursor: pointer; }
  #status { font-family: sans-serif; font-size: 13px; color: #666; }
  #status.err { color: #b00020; }
  .grid { display: grid; grid-template-columns: 2fr 1fr; gap: 18px; }
  section { background: white; border: 1px solid #ddd; border-radius: 8px; padding: 12px 16px; }
  h2 { font-size: 15px; margin: 0 0 8px; font-family: sans-serif; direction: ltr; text-align: left; color: #444; }
  #text { font-size: 20px; line-height: 2.3; white-space: pre-wrap; }
  mark.ent { border-radius: 4px; padding: 2px 3px; background: var(--other); }
  mark.ent .lab { font: bold 10px sans-serif; margin-inline-start: 4px; padding: 0 3px; border-radius: 3px;
                  background: rgba(0,0,0,.55); color: white; vertical-align: middle; direction: ltr;
                  unicode-bidi: isolate; }
  .legend span { display: inline-block; margin: 0 0 0 10px; font: 12px sans-serif; padding: 1px 6px;
                 border-radius: 4px; }
  .topic { direction: ltr; margin: 6px 0 10px; font: 13px sans-serif; }
  .topic .name { display: flex; justify-content: space-between; }
  .topic.on .name b { color: #1a7f37; }
  .track { position: relative; height: 12px; background: #eee; border-radius: 6px; margin-top: 3px; }
  .fill { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 6px; background: #9aa5b1; }
  .topic.on .fill { background: #2f9e44; }
  .thr { position: absolute; top: -3px; bottom: -3px; width: 2px; background: #d9480f; }
  .note { font: 12px sans-serif; color: #777; direction: ltr; text-align: left; }
</style>
</head>
<body>
<main>
  <h1>arabic-tagger &mdash; entities and topics</h1>
  <textarea id="input" dir="rtl" placeholder="&#1575;&#1604;&#1589;&#1602; &#1606;&#1589;&#1575;&#1611; &#1593;&#1585;&#1576;&#1610;&#1575;&#1611; &#1607;&#1606;&#1575;"></textarea>
  <div class="bar"><button id="go" type="button">Tag</button><span id="status"></span></div>
  <div class="grid">
    <section><h2>Entities</h2><div class="legend" id="legend"></div><div id="text" dir="rtl"></div></section>
    <section><h2>Topics</h2><div id="topics"></div>
      <p class="note">bar: the topic's score; orange line: its threshold; green: assigned.</p></section>
  </div>
</main>
<script>
"use strict";
const COLORS = ["PER", "ORG", "LOC", "MISC"];
let model = null;
function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}
function status(msg, bad) {
  const s = document.getElementById("status");
  s.textContent = msg; s.className = bad ? "err" : "";
}
function color(label) { return COLORS.includes(label) ? "var(--" + label + ")" : "var(--other)"; }
function drawEntities(result) {
  const box = document.getElementById("text");
  box.replaceChildren();
  const chars = Array.from(result.text);
  let pos = 0;
  const ents = result.entities.slice().sort((a, b) => a.start - b.start);
  for (const e of ents) {
    if (e.start < pos) continue;
    box.append(chars.slice(pos, e.start).join(""));
    const mark = el("mark", "ent");
    mark.dataset.label = e.label;
    mark.title = e.label + " " + e.score.toFixed(2);
    mark.style.background = color(e.label);
    mark.append(chars.slice(e.start, e.end).join(""), el("span", "lab", e.label));
    box.append(mark);
    pos = e.end;
  }
  box.append(chars.slice(pos).join(""));
  const legend = document.getElementById("legend");
  legend.replaceChildren();
  for (const label of (model && model.ner_labels) || []) {
    const tag = el("span", "", label);
    tag.style.background = color(label);
    legend.append(tag);
  }
}
function drawTopics(result) {
  const box = document.getElementById("topics");
  box.replaceChildren();
  if (!result.topic_scores) { box.append(el("p", "note", "this model has no topic head")); return; }
  const chosen = new Set(result.topics || []);
  const thresholds = (model && model.thresholds) || {};
  for (const [label, score] of Object.entries(result.topic_scores)) {
    const row = el("div", "topic" + (chosen.has(label) ? " on" : ""));
    row.dataset.topic = label;
    const name = el("div", "name");
    const thr = thresholds[label];
    name.append(el("b", "", label), el("span", "", "score " + score.toFixed(2) +
      (thr === undefined ? "" : "  threshold " + thr.toFixed(2))));
    const track = el("div", "track");
    const fill = el("div", "fill");
    fill.style.width = (100 * Math.max(0, Math.min(1, score))) + "%";
    track.append(fill);
    if (thr !== undefined) {
      const line = el("div", "thr");
      line.style.left = "calc(" + (100 * thr) + "% - 1px)";
      track.append(line);
    }
    row.append(name, track);
    box.append(row);
  }
}
async function tag() {
  const text = document.getElementById("input").value;
  if (!text.trim()) { status("paste some text first", true); return; }
  status("tagging...");
  const started = performance.now();
  try {
    if (!model) {
      const info = await fetch("v1/model");
      if (info.ok) model = await info.json();
    }
    const response = await fetch("v1/tag", { method: "POST", headers: { "Content-Type": "application/json" },
                                             body: JSON.stringify({ texts: [text] }) });
    const body = await response.json();
    if (!response.ok) { status(response.status + ": " + (body.error || "error"), true); return; }
    const result = body.results[0];
    drawEntities(result);
    drawTopics(result);
    document.body.dataset.done = "1";
    status(result.entities.length + " entities, " + ((result.topics || []).length) + " topics in " +
           Math.round(performance.now() - started) + " ms");
  } catch (err) {
    status(String(err), true);
  }
}
document.getElementById("go").addEventListener("click", tag);
document.getElementById("input").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) tag();
});
const given = new URLSearchParams(location.search).get("text");
if (given) { document.getElementById("input").value = given; tag(); }
</script>
</body>
</html>
"""
