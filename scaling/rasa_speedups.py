"""Two costs of Rasa 3.6 that grow with every turn, removed without changing what Rasa does.

A profile of a Rasa instance answering one long conversation (py-spy, 120 turns, README "Speed")
showed two thirds of its time in two places that do the same work again on every call:

- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which checks the
  *schema itself* against the JSON Schema meta-schema before checking the action server's answer:
  30 % of the process's time. Here the validator is built (and the schema checked) once; every
  answer is still validated, and an invalid one raises the same ``ValidationError`` with Rasa's
  own message.
- ``Event.resolve_by_type`` walks every subclass of ``Event`` (``all_subclasses``, ``isabstract``)
  for each stored event read back from the tracker store, so reading a tracker of n events walks
  the class tree n times: 15 %. Here a type name found once is remembered; an unknown one still
  goes through Rasa's own lookup (and its error).

``install()`` is called by ``scripts/serve_rasa.py`` before Rasa starts; it is idempotent.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Optional, Type

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _validate_action_results_with_one_validator()
    _remember_event_types()
    _installed = True


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate does on every call
    return cls(schema)


def _validate_action_results_with_one_validator() -> None:
    from jsonschema import ValidationError, exceptions
    from rasa.core.actions.action import DOCS_BASE_URL, RemoteAction

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        error = exceptions.best_match(action_response_validator().iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def _remember_event_types() -> None:
    from rasa.shared.core.events import Event

    rasa_lookup = Event.resolve_by_type
    found: Dict[str, Type[Event]] = {}

    def resolve_by_type(type_name: str, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        cls = found.get(type_name)
        if cls is not None:
            return cls
        try:
            cls = rasa_lookup(type_name, None)
        except ValueError:
            cls = None
        if cls is None:
            return rasa_lookup(type_name, default)  # Rasa's own answer: None for "topic", default, or its error
        found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]
