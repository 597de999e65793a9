"""Shared set-up of the Python tests: a calibration cache of their own
(VOXFE_CACHE_DIR, a temporary folder for the session), the repository's
scenes, and the CLI binary the results are compared with."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# Before voxfe is imported anywhere: the calibration cache of the session.
_CACHE = tempfile.mkdtemp(prefix="voxfe-pytest-cache-")
os.environ["VOXFE_CACHE_DIR"] = _CACHE

REPO = Path(__file__).resolve().parents[2]
SCENES = REPO / "scenes"

#: Wall times and other metadata: differ between two runs of the same
#: scene; and the build's identity (the git commit, whether the tree was
#: dirty), which differs between a wheel and a binary built at different
#: commits of a working tree (CI builds both from one checkout).
TIMING = {
    "commit",
    "dirty",
    "voxelize_seconds",
    "solve_seconds",
    "setup_seconds",
    "iterations_seconds",
    "calibration_seconds",
    "calibration_cache",
    "cache",
    "reliable_update_seconds",
    "seconds",
    "date",
}


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def cache_dir():
    return Path(_CACHE)


def cli_binary():
    """The voxfe binary built from this checkout (VOXFE_BIN, else
    target/release/voxfe); None when there is none (CI builds it: required
    there)."""
    b = os.environ.get("VOXFE_BIN")
    path = Path(b) if b else REPO / "target" / "release" / "voxfe"
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def cli():
    """Runs the CLI in the repository root; returns stdout (exit status
    checked against `ok`)."""
    binary = cli_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("no voxfe binary (cargo build --release) to compare with")
        pytest.skip("no voxfe binary (cargo build --release) to compare with")

    def run(*args, ok=(0,)):
        p = subprocess.run(
            [str(binary), *args], cwd=REPO, capture_output=True, text=True, timeout=600
        )
        assert p.returncode in ok, f"voxfe {' '.join(args)}: exit {p.returncode}\n{p.stderr}"
        return p.stdout

    return run


def strip(value):
    """`value` without the fields that hold wall times, dates and cache
    status (at any depth)."""
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def same_bits(a, b, path="$"):
    """Asserts that two JSON values are equal, floats to the bit (NaN and
    signed zeros included), naming the first path that differs."""
    assert type(a) is type(b), f"{path}: {a!r} ({type(a).__name__}) vs {b!r} ({type(b).__name__})"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} vs {list(b)}"
        for k in a:
            same_bits(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            same_bits(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a.hex() == b.hex(), f"{path}: {a!r} vs {b!r}"
    else:
        assert a == b, f"{path}: {a!r} vs {b!r}"


def json_line(text):
    return json.loads(text)
