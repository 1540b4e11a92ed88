"""``tagger predict`` over files and stdin: inputs checked first, outputs written so no user data is lost.

``inputs`` (checking and reading), ``output`` (where and how results are written), ``resume`` (continuing an
interrupted run safely), ``run`` (the command itself).
"""

from __future__ import annotations

from tagger.predict_cli.run import PredictOptions, run_predict

__all__ = ["PredictOptions", "run_predict"]
