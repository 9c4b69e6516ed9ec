#!/usr/bin/env bash
# Check the repository as Binder builds it: a fresh virtual environment that installs only
# from binder/ (requirements.txt, then postBuild), then runs every notebook top to bottom.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Jupyter's own dirs inside the temp dir: no kernel or setting from this machine is used.
export JUPYTER_DATA_DIR="$work/jupyter-data" JUPYTER_CONFIG_DIR="$work/jupyter-config"
export JUPYTER_RUNTIME_DIR="$work/jupyter-runtime" IPYTHONDIR="$work/ipython"
python -m venv "$work/venv"
# shellcheck disable=SC1091
source "$work/venv/bin/activate"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -r binder/requirements.txt
bash binder/postBuild
unset TELNYX_API_KEY TELNYX_BASE_URL
cp notebooks/*.ipynb "$work/"
for notebook in "$work"/*.ipynb; do
    echo "binder check: running $(basename "$notebook")"
    python -m jupyter nbconvert --to notebook --execute --inplace \
        --ExecutePreprocessor.timeout=300 --ExecutePreprocessor.kernel_name=python3 \
        "$notebook" >/dev/null 2>&1 || { echo "binder check: $(basename "$notebook") failed"; exit 1; }
done
python -c "import missionlab, sys; print('binder check: missionlab', missionlab.__version__, 'from', missionlab.__file__)"
echo "binder check: all notebooks ran"
