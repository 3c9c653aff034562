"""`rasa test core --fail-on-prediction-errors` on the test stories in tests/stories.

One adjustment to how Rasa compares a message's entities with the story's annotations:
the `register` entity (french / darija_latin / darija_arabic) describes the whole message,
not a span of it, and story annotations cannot mark a whole-message span that overlaps a
city or an age. It is left out of that comparison; every other entity must match exactly.
The register itself is checked by the unit and end-to-end tests."""

from __future__ import annotations

import sys
from typing import Any, Dict, List

import rasa.core.test as core_test
from rasa.__main__ import main

_clean_entity_results = core_test._clean_entity_results


def _without_register(text: str, entity_results: List[Dict[str, Any]]) -> Any:
    return _clean_entity_results(text, [e for e in entity_results if e.get("entity") != "register"])


if __name__ == "__main__":
    core_test._clean_entity_results = _without_register  # type: ignore[assignment]
    sys.argv = ["rasa", "test", "core", "--fail-on-prediction-errors", *sys.argv[1:]]
    main()
