"""Tasks behind one interface (:class:`~tagger.tasks.base.Task`): ``ner``, ``topics`` and ``joint``.

A new task is one module with a :class:`Task` subclass, added to :data:`TASKS` (and to the ``task`` choices of
:class:`tagger.config.Task`). Nothing here imports torch.
"""

from __future__ import annotations

from tagger.errors import ConfigError
from tagger.tasks.base import LabelSets, LossState, Task
from tagger.tasks.joint import JointTask
from tagger.tasks.ner import NerTask
from tagger.tasks.topics import TopicsTask

TASKS: dict[str, type[Task]] = {"ner": NerTask, "topics": TopicsTask, "joint": JointTask}

__all__ = ["TASKS", "LabelSets", "LossState", "Task", "get_task"]


def get_task(name: object) -> Task:
    """The task called ``name`` (a string or a :class:`tagger.config.Task`; a :class:`Task` is returned as is)."""
    if isinstance(name, Task):
        return name
    key = getattr(name, "value", name)
    if key not in TASKS:
        raise ConfigError(f"unknown task {key!r}; tasks are {sorted(TASKS)}")
    return TASKS[key]()
