"""HTTP routes of the registry: a read API for the assistant, a write API for staff."""
