"""Issue 17: the package's shape -- no import cycles, small modules, the task decided in one place."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tagger"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _top_level_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The tagger modules a module imports when it is imported (not inside functions, not TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)

    visit(tree.body)
    return {m for m in found if m in modules}


def test_issue_17_no_import_cycles_in_the_package():
    modules = _modules()
    graph = {name: _top_level_imports(path, modules) - {name} for name, path in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)


def test_issue_17_no_module_over_400_lines():
    too_long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not too_long, f"split these modules (over {MAX_LINES} lines): {too_long}"


def test_issue_17_the_task_is_decided_in_tagger_tasks_only():
    """Outside tagger/tasks (and the config that names the choices), no layer branches on the task."""
    pattern = re.compile(r"Task\.(NER|TOPICS|JOINT)|\b(if|elif|and|or|else)\b.*\btask\s*(==|!=|is|in)\s*[\"'(T]")
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "tasks" or rel.name == "config.py":
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"tagger/{rel}:{lineno}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_issue_17_every_task_implements_the_interface_and_is_a_config_choice():
    from tagger.config import Task as TaskChoice
    from tagger.tasks import TASKS, Task, get_task

    assert {t.value for t in TaskChoice} == set(TASKS)
    for name, cls in TASKS.items():
        assert issubclass(cls, Task) and not inspect.isabstract(cls), name
        task = get_task(name)
        assert task.name == name and task.outputs and set(task.token_outputs) <= set(task.outputs)
        assert isinstance(task.metric, str) and task.metric


def test_issue_17_backends_do_not_import_the_exporter_or_the_trainer():
    modules = _modules()
    for name in [m for m in modules if m.startswith(("tagger.backends", "tagger.predict", "tagger.tasks"))]:
        source = modules[name].read_text(encoding="utf-8")
        assert "tagger.export" not in source and "tagger.trainer" not in source, name


def test_issue_17_one_error_base_class():
    import tagger.errors as errors
    from tagger.errors import TaggerError

    user_errors = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                user_errors.append((name, node.name))
    import importlib

    for module, cls in user_errors:
        obj = getattr(importlib.import_module(module), cls)
        if not issubclass(obj, BaseException):  # e.g. report.ner.NerError, a record of an NER mistake
            continue
        assert issubclass(obj, TaggerError), f"{module}.{cls} does not derive from TaggerError"
    assert errors.TaggerError is TaggerError
