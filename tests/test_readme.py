"""The README's examples run as written: every ```python block, in order, continuing from the main command.

The main command (``tagger quickstart``) leaves a bundle in ``runs/quickstart``; here that bundle is made of the
tiny fixture models, and the hub encoder id is replaced by the tiny local encoder (no hub in tests). Every
```bash block that starts with ``tagger `` is run too. Blocks marked ```text are synopses, not run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

README = ROOT / "README.md"
HUB_ID = "aubmindlab/bert-base-arabertv02"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


@pytest.fixture()
def workdir(tmp_path, trained_ner, trained_topics, monkeypatch) -> Path:
    bundle = tmp_path / "runs" / "quickstart"
    bundle.mkdir(parents=True)
    shutil.copytree(trained_ner, bundle / "ner")
    shutil.copytree(trained_topics, bundle / "topics")
    for name in ("seeds", "training"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_has_python_examples():
    assert len(blocks("python")) >= 2


def test_readme_python_examples_run(workdir, tiny_encoder, capsys):
    namespace: dict = {"__name__": "readme"}
    for k, code in enumerate(blocks("python")):
        code = code.replace(HUB_ID, str(tiny_encoder))
        exec(compile(code, f"README.md python block {k + 1}", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert out.strip(), "the examples print what they show"


def test_readme_cli_examples_run(workdir, tiny_encoder):
    commands = [line for block in blocks("bash") for line in block.splitlines() if line.startswith("tagger ")]
    assert commands, "the README shows the command line"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for line in commands:
        argv = [a.replace(HUB_ID, str(tiny_encoder)) for a in shlex.split(line.split(" #")[0])]
        if argv[1] in ("quickstart", "train"):
            continue  # the main command and training are exercised by their own tests (slow with a real encoder)
        run = subprocess.run([sys.executable, "-m", "tagger.cli", *argv[1:]], env=env, capture_output=True, text=True,
                             timeout=300)
        assert run.returncode == 0, f"{line}\n{run.stderr[-2000:]}"
