"""Write an evaluation report for one or more saved models: ``python eval/report.py MODEL... --data FILE --out DIR``.

The same as ``tagger eval`` (see ``tagger eval --help``): a thin wrapper over :func:`tagger.report.run_eval`.
eval/README.md describes what the report contains and every key of metrics.json.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from tagger.cli import main as cli_main

    return cli_main(["eval", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
