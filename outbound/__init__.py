"""How every Tawjih part calls out over HTTP: one retry-with-deadline policy, for `requests` and `aiohttp` alike."""
