"""The public web page with Tawjih's chat widget (`python -m web`, port 8080 by default)."""
