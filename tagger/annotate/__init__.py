"""Annotation-tool bridge: Label Studio / Doccano task files out, verified annotations back in.

* :mod:`tagger.annotate.labelstudio`: :func:`labeling_config`, :func:`write_tasks` (tasks.json with the model's
  predictions as pre-annotations, labeling_config.xml, doccano.jsonl).
* :mod:`tagger.annotate.importer`: :func:`import_annotations` (Label Studio JSON / JSON-MIN, Doccano JSONL) ->
  our JSONL records; every span verified against its text and repaired where the tool counted differently
  (:mod:`tagger.annotate.spans`).
* :mod:`tagger.annotate.formats`: reading the exports; atomic writes that never replace the user's files.

No module here imports torch.
"""

from __future__ import annotations

from tagger.annotate.importer import ImportResult, SkippedTask, import_annotations, import_to_file, write_records
from tagger.annotate.labelstudio import build_tasks, labeling_config, write_tasks

__all__ = [
    "ImportResult",
    "SkippedTask",
    "build_tasks",
    "import_annotations",
    "import_to_file",
    "labeling_config",
    "write_records",
    "write_tasks",
]
