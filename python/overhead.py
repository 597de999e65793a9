"""The wall time a Python call adds over the CLI on the same scene: the
CLI (`voxfe run SCENE --backend cpu -q`) and a fresh Python process
(`voxfe.run(voxfe.Scene.load(SCENE), backend="cpu")`, the import
included) alternated N times, after one warm-up of each (the calibration
cache filled). Prints each pair, the medians and their ratio, and the
E_eff each printed.

    python python/overhead.py [SCENE] [N]      # from the repository root
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
scene = sys.argv[1] if len(sys.argv) > 1 else "scenes/rd-compression.toml"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 3
binary = os.environ.get("VOXFE_BIN", str(REPO / "target/release/voxfe"))

cli = [binary, "run", scene, "--backend", "cpu", "-q"]
py = [
    sys.executable,
    "-c",
    "import sys, voxfe; "
    "r = voxfe.run(voxfe.Scene.load(sys.argv[1]), backend='cpu'); print(repr(r.e_eff))",
    scene,
]


def timed(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}")
    return dt, p.stdout


_, cli_out = timed(cli)
_, py_out = timed(py)
e_cli = next(l for l in cli_out.splitlines() if l.startswith("E_eff"))
print(f"CLI:    {e_cli.strip()}")
print(f"Python: e_eff = {py_out.strip()}")
times = {"cli": [], "python": []}
for i in range(n):
    for name, cmd in (("cli", cli), ("python", py)) if i % 2 == 0 else (("python", py), ("cli", cli)):
        dt, _ = timed(cmd)
        times[name].append(dt)
    print(f"round {i + 1}: CLI {times['cli'][-1]:.2f} s, Python {times['python'][-1]:.2f} s")
c, p = statistics.median(times["cli"]), statistics.median(times["python"])
print(f"median: CLI {c:.2f} s, Python {p:.2f} s, ratio {p / c:.3f}")
