"""The console's HTTP routes: JSON (``v1``), pages (``pages``), login (``auth``), and what they share."""
