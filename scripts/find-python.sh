#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 runs on 3.8–3.10 only), or explains what to install.
set -u
candidates=("${TAWJIH_PYTHON:-}" python3.10)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for dir in "$root"/versions/3.10*; do candidates+=("$dir/bin/python3.10"); done
fi
candidates+=("$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10)
for candidate in "${candidates[@]}"; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null) || continue
  version=$("$path" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  if [ "$version" = "3.10" ]; then echo "$path"; exit 0; fi
done
cat >&2 <<'MSG'
Tawjih needs Python 3.10: Rasa Open Source 3.6 refuses Python 3.11 and newer.
Install one of these, then run the command again:
  - with pyenv:   pyenv install 3.10
  - on Debian/Ubuntu (deadsnakes or a release that ships it): apt-get install python3.10 python3.10-venv
  - or point TAWJIH_PYTHON at a Python 3.10 interpreter: TAWJIH_PYTHON=/path/to/python3.10 make run
MSG
exit 1
