"""The staff console: staff read every conversation session, masked, review it, and turn what went wrong into
training data. It reads Rasa's tracker store (read-only, erasing only through ``privacy``) and keeps its own
data (users, review state, annotations, audit log) in ``CONSOLE_DATABASE_URL``."""
