"""Run `watwerkt` in-process the way a script would: arguments, optional stdin, --json; the
one JSON object it prints is returned (and must be the only line on stdout)."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from ui.cli import main


def run_json(argv: list[str], stdin: str = "") -> Any:
    old_in, old_out = sys.stdin, sys.stdout
    sys.stdin, sys.stdout = io.StringIO(stdin), io.StringIO()
    try:
        code = main([*argv, "--json", "-q"])
        out = sys.stdout.getvalue()
    finally:
        sys.stdin, sys.stdout = old_in, old_out
    assert code == 0, out
    lines = out.splitlines()
    assert len(lines) == 1, "exactly one JSON object on stdout"
    return json.loads(lines[0])
