"""Long solves release the GIL, report progress, and stop on Ctrl-C with
KeyboardInterrupt, leaving nothing half-written."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import voxfe
from conftest import SCENES

#: A solve of several seconds (Jacobi to a tight tolerance).
SLOW = {
    "specimen.size": [3.0, 3.0, 3.0],
    "voxel.size": 0.1,
    "voxel.fraction_exponent": 2.0,
    "solver.preconditioner": "jacobi",
    "solver.tolerance": 1e-12,
    "solver.max_iterations": 1000000,
}


def test_progress_is_reported_at_each_residual_check():
    seen = []
    scene = voxfe.Scene.load(SCENES / "rd-compression.toml", specimen__size=[3.0, 3.0, 3.0],
                             voxel_size=0.1)
    r = voxfe.run(scene, backend="cpu", progress=seen.append)
    # The calibration's solves (a cache miss) come first, the run's last.
    solves = [s for s in seen if s["stage"] == "solve"][-r.iterations :]
    assert [s["iteration"] for s in solves] == list(range(1, r.iterations + 1))
    assert solves[-1]["relative_residual"] <= solves[-1]["tolerance"] == 1e-6
    assert solves[0]["relative_residual"] > solves[-1]["relative_residual"]


def test_a_callback_that_raises_stops_the_solve():
    class Stop(Exception):
        pass

    def progress(step):
        if step.get("iteration") == 5:
            raise Stop("enough")

    scene = voxfe.Scene.load(SCENES / "rd-compression.toml", SLOW)
    t = time.monotonic()
    with pytest.raises(Stop, match="enough"):
        voxfe.run(scene, backend="cpu", progress=progress)
    assert time.monotonic() - t < 60


def test_the_gil_is_released_while_solving():
    scene = voxfe.Scene.load(SCENES / "rd-compression.toml", specimen__size=[3.0, 3.0, 3.0],
                             voxel_size=0.1, **{"voxel.fraction_exponent": 2.0})
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    t = threading.Thread(target=tick)
    t.start()
    try:
        start = time.monotonic()
        voxfe.run(scene, backend="cpu")
        end = time.monotonic()
    finally:
        done.set()
        t.join()
    during = [x for x in ticks if start < x < end]
    # A thread that holds no GIL-free moment would tick once or not at all.
    assert len(during) >= 0.25 * (end - start) / 0.01, (len(during), end - start)


CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    import voxfe
    # As in an interactive Python (a harness may start us with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    scene = voxfe.Scene.load(sys.argv[1], json.loads(sys.argv[2]))
    told = []
    def progress(step):
        if not told:
            told.append(1)
            print("solving", flush=True)
    r = voxfe.run(scene, backend="cpu", progress=progress)
    tmp = sys.argv[3] + ".part"
    with open(tmp, "w") as f:
        f.write(r.to_json())
    os.replace(tmp, sys.argv[3])
    print("done", flush=True)
    """
)


def test_ctrl_c_during_a_solve_raises_keyboard_interrupt(tmp_path, cache_dir):
    import json

    out = tmp_path / "result.json"
    env = dict(os.environ, VOXFE_CACHE_DIR=str(tmp_path / "cache"))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(SCENES / "rd-compression.toml"), json.dumps(SLOW), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == "solving", child.stderr.read()
        time.sleep(0.2)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
        stopped_in = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
    assert "KeyboardInterrupt" in err, err
    assert child.returncode != 0
    assert stopped_in < 10, f"took {stopped_in:.1f} s to stop"
    # Nothing half-written: no result, no partial file, no partial cache entry.
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == []
    left = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert not [n for n in left if "tmp" in n or n.startswith(".")], left
