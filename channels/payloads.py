"""Placeholder until the slot rules land: messages pass unchanged."""


def clean_payload(text: str) -> str:
    return text
