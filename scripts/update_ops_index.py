"""Regenerate (or, with --check, verify) gradexplain/ops/index.py from the op registry.

The index holds each entry's name, family, spellings and argument rules, so the parser
reads a call without importing its family module. Run this after adding a function or
changing its spellings or settings.
"""

from __future__ import annotations

import sys
from pathlib import Path

INDEX = Path(__file__).resolve().parent.parent / "gradexplain" / "ops" / "index.py"


def main() -> int:
    from gradexplain.ops.indexfile import source

    fresh = source()
    if "--check" in sys.argv:
        if INDEX.read_text(encoding="utf-8") != fresh:
            print(
                "gradexplain/ops/index.py is stale: run python scripts/update_ops_index.py",
                file=sys.stderr,
            )
            return 1
        return 0
    INDEX.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
