"""Tawjih's custom actions. rasa-sdk imports every module of this package."""

from actions.config import check_at_start

check_at_start()  # an invalid setting stops the action server now, naming the variable
