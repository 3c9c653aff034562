"""What Tawjih keeps about the people who write to it, and how it forgets.

The welcome tells every newcomer two things: the conversation is kept for
``TAWJIH_RETENTION_DAYS`` days, and writing "supprime mes données" erases it. This package
keeps both promises: ``privacy.tracker_store`` erases a conversation when the person asks, and
``privacy.retention`` deletes what is older than the retention period (``python -m privacy purge``,
run every hour by ``make run``)."""
