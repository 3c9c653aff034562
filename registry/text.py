"""Text folding so that filters match whatever accents and case people type."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z\u0600-\u06ff]+")


def fold(text: str) -> str:
    """Fès, fes and FES all fold to ``fes``; hyphens, apostrophes and spaces to one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", without_marks.lower()).strip()
