"""The statistics' CSV holds whatever people typed, safely: no formula runs, no control character breaks it."""

from __future__ import annotations

import csv
import io

from console.stats import csv_cell


def test_a_message_with_control_characters_is_written_without_them() -> None:
    cells = [csv_cell(text) for text in ("\x00\x07\x1b", "salam\x00", "=1+1\x00")]
    out = io.StringIO()
    csv.writer(out).writerow(cells)  # a NUL used to stop the writer: the download answered 500
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["", "salam", "'=1+1"]
