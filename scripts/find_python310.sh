#!/usr/bin/env bash
# Print the path of a working Python 3.10 interpreter, or exit 1.
# lava-nc 0.10.0 imports only on Python 3.10, so every candidate is *run*, not trusted by name
# (a pyenv shim named python3.10 exists but fails unless PYENV_VERSION is set).
set -u
candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for p in "$root"/versions/3.10.*/bin/python3.10; do candidates+=("$p"); done
candidates+=(python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10 python3 python)
for c in "${candidates[@]}"; do
    v=$("$c" -c 'import sys, venv; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    if [ "$v" = "3.10" ]; then
        command -v "$c" 2>/dev/null || echo "$c"
        exit 0
    fi
done
exit 1
