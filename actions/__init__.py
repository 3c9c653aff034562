"""Tawjih's custom actions. rasa-sdk imports every module of this package."""
