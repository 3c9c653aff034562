"""Tawjih's registry: the single source of truth for programmes, centres and sessions."""
