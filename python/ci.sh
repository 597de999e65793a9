#!/usr/bin/env bash
# CI of the Python package: a virtual environment with maturin, pytest and
# the libraries the tests and the example use, the wheel built by maturin
# (in the workspace's target folder) and installed, then pytest and the
# notebook-style example. Run from anywhere after `cargo test --release`
# (which builds the voxfe binary the tests compare with).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS

# pyvista renders off-screen through VTK's EGL or OSMesa fallback: Mesa's
# libraries (the GL ones come with .ci/run's GPU drivers).
export DEBIAN_FRONTEND=noninteractive
if command -v apt-get >/dev/null && ! dpkg -s libgl1 libxrender1 libosmesa6 libegl1 >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq libgl1 libxrender1 libosmesa6 libegl1 >/dev/null
fi

venv=${VOXFE_PY_VENV:-$root/python/.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q maturin pytest numpy pandas pyvista scipy matplotlib
echo "python: environment ready ($((SECONDS - start)) s)"

t=$SECONDS
rm -rf target/wheels
(cd python && "$venv/bin/maturin" build --release -i "$venv/bin/python" -o "$root/target/wheels")
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps target/wheels/voxfe-*.whl
echo "python: wheel built and installed ($((SECONDS - t)) s)"

# The CLI the results are compared with (cargo test --release built it).
if [ ! -x target/release/voxfe ]; then
  cargo build --release --bin voxfe
fi
export VOXFE_BIN=$root/target/release/voxfe

t=$SECONDS
# Outside the source tree, so that `import voxfe` is the installed wheel.
(cd "$root/python/tests" && "$venv/bin/python" -m pytest -q -p no:cacheprovider .)
echo "python: tests done ($((SECONDS - t)) s)"

t=$SECONDS
cache=$(mktemp -d)
VOXFE_CACHE_DIR=$cache "$venv/bin/python" examples/notebook.py
rm -rf "$cache"
echo "python: example done ($((SECONDS - t)) s); python CI $((SECONDS - start)) s in all"
