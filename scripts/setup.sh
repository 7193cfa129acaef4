# Sourced by scripts/demo and scripts/test: a project venv with Python >= 3.11.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "ketenwacht needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2
    exit 69
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
