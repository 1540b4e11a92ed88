"""Render an evaluation result (the metrics.json dict) as Markdown and as one self-contained HTML page.

Both come from the blocks of :mod:`tagger.report.blocks`. The HTML has inline CSS and base64 PNGs only (no URL
of any kind), and sets ``dir="rtl" lang="ar"`` on every cell holding Arabic text so examples read right-to-left.
"""

from __future__ import annotations

import base64
import html
import re
import unicodedata
from collections.abc import Mapping, Sequence

from tagger.report.blocks import Marked, Rtl, Table, build_blocks
from tagger.report.ner import marked_context
from tagger.report.regression import Flag

_ARABIC_RE = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")


# -------------------------------------------------------------------------------------------- markdown
def _md_cell(value: object) -> str:
    if isinstance(value, Marked):
        text = marked_context(value.ctx)
    elif isinstance(value, (Rtl, Flag)):
        text = value.text
    else:
        text = str(value)
    text = " ".join(text.split())
    for ch in "\\|*`<":
        text = text.replace(ch, "\\" + ch)
    return text


def _width(text: str) -> int:
    """Terminal columns: combining marks (tashkeel) and format characters take none."""
    return sum(0 if unicodedata.combining(c) or unicodedata.category(c) == "Cf" else 1 for c in text)


def _md_table(t: Table) -> str:
    cells = [[_md_cell(v) for v in row] for row in t.rows]
    heads = [_md_cell(h) for h in t.headers]
    widths = [max([_width(heads[j])] + [_width(r[j]) for r in cells]) for j in range(len(heads))]
    right = [t.right(j) for j in range(len(heads))]

    def line(vals: Sequence[str]) -> str:
        pads = [" " * (w - _width(v)) for v, w in zip(vals, widths)]
        return "| " + " | ".join(p + v if r else v + p for v, p, r in zip(vals, pads, right)) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if r else (":" + "-" * (w + 1)) for w, r in zip(widths, right)) + "|"
    return "\n".join([line(heads), sep, *(line(r) for r in cells)])


def render_markdown(result: Mapping, figure_paths: Mapping[str, str]) -> str:
    """GitHub-flavoured Markdown with padded tables (readable in a terminal); figures are linked files."""
    out: list[str] = []
    for b in build_blocks(result, list(figure_paths)):
        kind = b[0]
        if kind == "h":
            out.append("#" * b[1] + " " + b[2])
        elif kind == "p":
            out.append(b[1])
        elif kind == "list":
            out.append("\n".join(f"- {item}" for item in b[1]))
        elif kind == "table":
            out.append(_md_table(b[1]))
        elif kind == "img":
            out.append(f"![{b[2]}]({figure_paths[b[1]]})")
    return "\n\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------------ html
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Naskh Arabic","DejaVu Sans",sans-serif;
margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{border-bottom:1px solid #ccc;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #d0d0d0;padding:.25rem .5rem;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td[dir=rtl]{text-align:right;font-size:1.05rem;min-width:8rem}
tr:nth-child(even) td{background:#fafafa}
td.flag{color:#b00020;font-weight:bold;white-space:nowrap}
.g{border-bottom:3px solid #2e7d32}.p{background:#ffe08a}
img{max-width:100%;border:1px solid #eee;margin:.4rem 0}
.legend span{padding:0 .3rem;margin-right:.6rem}
nav ul{columns:2}
"""


def _html_cell(value: object, numeric: bool) -> str:
    if isinstance(value, Marked):
        ctx = value.ctx
        g, p = ctx["gold"], ctx["pred"]
        runs: list[tuple[str, list[str]]] = []  # contiguous tokens sharing the same marks
        for i, tok in enumerate(ctx["tokens"]):
            cls = " ".join(c for c, span in (("g", g), ("p", p)) if span and span[0] <= i < span[1])
            if runs and runs[-1][0] == cls:
                runs[-1][1].append(html.escape(tok))
            else:
                runs.append((cls, [html.escape(tok)]))
        parts = [f'<span class="{c}">{" ".join(t)}</span>' if c else " ".join(t) for c, t in runs]
        text = " ".join(parts)
        text = ("… " if ctx["truncated_left"] else "") + text + (" …" if ctx["truncated_right"] else "")
        return f'<td dir="rtl" lang="ar">{text}</td>'
    if isinstance(value, Flag):
        return f'<td class="flag">{html.escape(value.text)}</td>'
    if isinstance(value, Rtl):
        attrs = ' dir="rtl" lang="ar"' if _ARABIC_RE.search(value.text) else ' dir="auto"'
        return f"<td{attrs}>{html.escape(value.text)}</td>"
    cls = ' class="num"' if numeric else ""
    return f"<td{cls}>{html.escape(str(value))}</td>"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def render_html(result: Mapping, figures: Mapping[str, bytes]) -> str:
    """One self-contained page: inline CSS, figures as data URIs, no links to anything outside it."""
    blocks = build_blocks(result, list(figures))
    body: list[str] = []
    toc: list[str] = []
    used: set[str] = set()
    for b in blocks:
        kind = b[0]
        if kind == "h":
            anchor = _slug(b[2])
            while anchor in used:
                anchor += "-x"
            used.add(anchor)
            if b[1] == 2:
                toc.append(f'<li><a href="#{anchor}">{html.escape(b[2])}</a></li>')
            body.append(f'<h{b[1]} id="{anchor}">{html.escape(b[2])}</h{b[1]}>')
        elif kind == "p":
            body.append(f"<p>{html.escape(b[1])}</p>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{html.escape(str(i))}</li>" for i in b[1]) + "</ul>")
        elif kind == "table":
            t: Table = b[1]
            head = "".join(f"<th>{html.escape(str(h))}</th>" for h in t.headers)
            rows = "".join(
                "<tr>" + "".join(_html_cell(v, t.right(j)) for j, v in enumerate(row)) + "</tr>" for row in t.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "legend":
            body.append('<p class="legend"><span class="g">gold entity</span><span class="p">prediction</span></p>')
        elif kind == "toc":
            body.append("<!--toc-->")
        elif kind == "img":
            data = base64.b64encode(figures[b[1]]).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(b[2])}" src="data:image/png;base64,{data}"></figure>')
    nav = f"<nav><ul>{''.join(toc)}</ul></nav>" if toc else ""
    page = "\n".join(body).replace("<!--toc-->", nav, 1)
    return (
        '<!DOCTYPE html>\n<html lang="en" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Evaluation report</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{page}\n</body>\n</html>\n"
    )
