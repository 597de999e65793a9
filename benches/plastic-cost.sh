#!/usr/bin/env bash
# The cost of an elastoplastic run on the CPU against the linear run of the
# same scene (docs/plastic.md, "Cost"): `voxfe plastic` to the scene's
# final strain and `voxfe run` at the same voxel size, whole processes
# alternated A B A B, ROUNDS rounds, each with its wall time; then the
# median ratio, the Newton steps per increment and the PCG iterations.
# Extra arguments go to both commands (e.g. --set plastic.tangent_multigrid=true).
#
# Usage: benches/plastic-cost.sh [SCENE] [H] [-- ARGS...]
#        (default scenes/rd-compression.toml at h = 0.1 mm); ROUNDS=2,
#        OUT=target/plastic-cost. Takes ≈ 30 s a round on 2 cores at
#        h = 0.1 (most of it the plastic run).
set -euo pipefail
cd "$(dirname "$0")/.."
SCENE=${1:-scenes/rd-compression.toml}
H=${2:-0.1}
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
ROUNDS=${ROUNDS:-2}
OUT=${OUT:-target/plastic-cost}
BIN=target/release/voxfe
[ -x "$BIN" ] || cargo build --release
mkdir -p "$OUT"
: > "$OUT/rounds.txt"
now() { python3 -c "import time; print(time.time())"; }
for r in $(seq "$ROUNDS"); do
  s=$(now)
  "$BIN" plastic "$SCENE" --set voxel.size="$H" "$@" --json -q > "$OUT/plastic-$r.json"
  p=$(python3 -c "print(round($(now)-$s,3))")
  s=$(now)
  "$BIN" run "$SCENE" --set voxel.size="$H" --backend cpu "$@" --json -q > "$OUT/run-$r.json"
  l=$(python3 -c "print(round($(now)-$s,3))")
  echo "round $r: plastic $p s, run $l s" | tee -a "$OUT/rounds.txt"
done
python3 - "$OUT" "$ROUNDS" <<'PY'
import json, re, statistics as st, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows = [list(map(float, re.findall(r"([\d.]+) s", l))) for l in open(f"{out}/rounds.txt")]
ratio = st.median(p / l for p, l in rows)
d = json.load(open(f"{out}/plastic-1.json"))
for r in range(2, rounds + 1):
    e = json.load(open(f"{out}/plastic-{r}.json"))
    assert e["curve"] == d["curve"], "the same scene gave another curve"
print(f"active nodes {d['active_nodes']}, {d['steps']} steps ({d['cutbacks']} cut-backs), "
      f"{d['newton_per_increment']:.2f} Newton steps per increment, "
      f"{d['cg_iterations']} PCG iterations ({d['elastic_cg_iterations']} for the elastic solve), "
      f"{d['tangent_hierarchies']} tangent hierarchies")
print(f"sigma_0.2 {d['yield_stress_offset']} MPa, last stress {d['final_stress']} MPa")
print(f"plastic / run wall time: {ratio:.1f}x (median of {len(rows)} alternated rounds; target 15x)")
PY
