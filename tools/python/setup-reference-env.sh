#!/usr/bin/env bash
# Creates .venv-ref (the Python reference and peer environment) from requirements-reference.txt
# unless it already holds exactly those versions. Prints the venv's python path on success.
# A machine whose pip is configured for a local package index (pip config's extra-index-url)
# installs from that index only, so pip does not spend minutes retrying an unreachable PyPI.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${TESSERA_PYTHON_ENV:-$root/.venv-ref}"
requirements="$root/tools/python/requirements-reference.txt"
stamp="$venv/.requirements"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$requirements"; then
  echo "$venv/bin/python"
  exit 0
fi
command -v python3 >/dev/null || { echo "python3 is needed for the reference environment (Debian: apt-get install python3 python3-venv)" >&2; exit 1; }
python3 -m venv "$venv" >&2 || { echo "cannot create $venv (Debian: apt-get install python3-venv)" >&2; exit 1; }

index_args=()
read -r -a local_indexes <<<"$(pip config get global.extra-index-url 2>/dev/null || true)"
if [ ${#local_indexes[@]} -gt 0 ]; then
  index_args+=(--index-url "${local_indexes[0]}")
  for extra in "${local_indexes[@]:1}"; do index_args+=(--extra-index-url "$extra"); done
fi
echo "installing the Python reference environment into $venv" >&2
# pip warns once per package about index locations it probes; those lines are noise here.
"$venv/bin/pip" install --quiet --disable-pip-version-check "${index_args[@]}" -r "$requirements" 2>&1 |
  { grep -v 'is ignored: it is neither a file nor a directory' || true; } >&2
cp "$requirements" "$stamp"
echo "$venv/bin/python"
