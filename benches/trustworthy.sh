#!/usr/bin/env bash
# The measurements of issue 25 ("a trustworthy modulus by default"), on the
# CPU, with the release binary:
#
#   1. accuracy: 1 and 2×2×2 RD cells at 80 % and 73.92 %, M/30 and M/20, no
#      flags: E_eff and its band (compare with references the project does
#      not have; docs/validation.md, "Error band", lists them);
#   2. cost: the shipped scene with the exponent set by hand, cold (empty
#      cache, shipped references) and warm (cached), alternated, ROUNDS
#      rounds: the ratios cold/hand and warm/hand;
#   3. smoothness: RD 70–88 % in 1-point steps on the shipped specimen with
#      the defaults: the Gibson–Ashby fit's rms residual and the smallest
#      step between neighbouring moduli;
#   4. concurrency: two sweeps of the same cases side by side on one empty
#      cache (two shards and a second sweep): same moduli as a sequential
#      run, no temporary files left in the cache.
#
# Usage: benches/trustworthy.sh [OUT] (default target/trustworthy); ROUNDS=3.
# Takes ≈ 20–30 min on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/trustworthy}
ROUNDS=${ROUNDS:-3}
BIN=target/release/voxfe
[ -x "$BIN" ] || cargo build --release
mkdir -p "$OUT"
export VOXFE_CACHE_DIR="$OUT/cache"
rm -rf "$VOXFE_CACHE_DIR"
SCENE=scenes/rd-compression.toml
json() { "$BIN" run "$@" --backend cpu --json -q 2>/dev/null; }

echo "== 1. accuracy (no flags)"
: > "$OUT/accuracy.jsonl"
for por in 0.80 0.7392; do
  for cells in 1 2; do
    for n in 30 20; do
      size=$(python3 -c "print(1.5*$cells)")
      h=$(python3 -c "print(1.5/$n)")
      json "$SCENE" --set lattice.porosity=$por --set "specimen.size=[$size,$size,$size]" \
        --set voxel.size=$h |
        python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps({'porosity':$por,'cells':$cells,'n':$n,'e_eff':d['e_eff'],'band':d.get('e_eff_error_estimate'),'p':d['fraction_exponent'],'d_over_h':d['d_over_h']}))" \
        | tee -a "$OUT/accuracy.jsonl"
    done
  done
done

echo "== 2. cost of \"auto\" on $SCENE ($ROUNDS rounds, alternated)"
P=$(json "$SCENE" | python3 -c "import json,sys; print(json.load(sys.stdin)['fraction_exponent'])")
: > "$OUT/cost.txt"
t() { local s; s=$(date +%s.%N); "$@" > /dev/null 2>&1; python3 -c "import time; print(round(time.time()-$s,3))"; }
for r in $(seq "$ROUNDS"); do
  hand=$(t "$BIN" run "$SCENE" --backend cpu -q --set voxel.fraction_exponent="$P")
  cold=$(VOXFE_CACHE_DIR="$OUT/cold-$r" t "$BIN" run "$SCENE" --backend cpu -q)
  warm=$(t "$BIN" run "$SCENE" --backend cpu -q)
  echo "round $r: hand $hand s, cold $cold s, warm $warm s" | tee -a "$OUT/cost.txt"
  rm -rf "$OUT/cold-$r"
done
python3 - "$OUT/cost.txt" <<'EOF'
import re, sys, statistics as st
rows = [list(map(float, re.findall(r"([\d.]+) s", l))) for l in open(sys.argv[1])]
hand, cold, warm = (st.median(r[i] for r in rows) for i in range(3))
print(f"median: hand {hand:.2f} s, cold {cold:.2f} s ({cold/hand:.2f}x), warm {warm:.2f} s ({warm/hand:.2f}x)")
EOF

echo "== 3. RD 70-88 % in 1-point steps, defaults"
rm -rf "$OUT/porosity"
"$BIN" sweep "$SCENE" --backend cpu -q --out "$OUT/porosity" --vary lattice.porosity=0.70:0.88:19
python3 - "$OUT/porosity/results.jsonl" <<'EOF'
import json, math, sys
rows = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda r: r["porosity_nominal"])
x = [math.log(1 - r["porosity_nominal"]) for r in rows]
y = [math.log(r["e_eff"]) for r in rows]
n = len(x); mx = sum(x) / n; my = sum(y) / n
b = sum((a - mx) * (c - my) for a, c in zip(x, y)) / sum((a - mx) ** 2 for a in x)
a = my - b * mx
res = [c - (a + b * xx) for xx, c in zip(x, y)]
rms = math.sqrt(sum(r * r for r in res) / n)
steps = [abs(rows[i + 1]["e_eff"] / rows[i]["e_eff"] - 1) for i in range(n - 1)]
for r in rows:
    print(f"{r['porosity_nominal']:.2f} {r['e_eff']:9.2f} MPa  ±{100*(r.get('e_eff_error_estimate') or 0):.1f} %  p = {r['fraction_exponent']}")
print(f"Gibson-Ashby E = C(1-phi)^{b:.3f}: rms residual {100*rms:.2f} %, max {100*max(map(abs,res)):.2f} %; smallest step {100*min(steps):.2f} %")
EOF

echo "== 4. two sweeps side by side on one empty cache"
rm -rf "$OUT/conc-"* "$VOXFE_CACHE_DIR"
VARY="lattice.porosity=0.72,0.76,0.81,0.86"
"$BIN" sweep "$SCENE" --backend cpu -q --out "$OUT/conc-a" --vary "$VARY" --set voxel.size=0.075 --shard 0/2 &
"$BIN" sweep "$SCENE" --backend cpu -q --out "$OUT/conc-b" --vary "$VARY" --set voxel.size=0.075 --shard 1/2 &
"$BIN" sweep "$SCENE" --backend cpu -q --out "$OUT/conc-c" --vary "$VARY" --set voxel.size=0.075 &
wait
VOXFE_CACHE_DIR="$OUT/conc-cache-seq" "$BIN" sweep "$SCENE" --backend cpu -q --out "$OUT/conc-seq" --vary "$VARY" --set voxel.size=0.075
python3 - "$OUT" <<'EOF'
import json, os, sys
o = sys.argv[1]
def moduli(*dirs):
    m = {}
    for d in dirs:
        for l in open(os.path.join(o, d, "results.jsonl")):
            r = json.loads(l); m[round(r["porosity_nominal"], 4)] = r["e_eff"]
    return m
seq, shards, other = moduli("conc-seq"), moduli("conc-a", "conc-b"), moduli("conc-c")
same = seq == shards == other
left = [f for _, _, fs in os.walk(os.path.join(o, "cache")) for f in fs if not f.endswith(".json")]
print(f"shards + concurrent sweep == sequential: {same}; entries: {sum(len(fs) for _, _, fs in os.walk(os.path.join(o, 'cache')))}; stray files: {left}")
sys.exit(0 if same and not left else 1)
EOF
