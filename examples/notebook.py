"""voxfe from Python, notebook style: a porosity sweep into a DataFrame, a
Gibson-Ashby fit with numpy, a design search with scipy's brentq on the
continuous modulus, and the von Mises field drawn off-screen with pyvista.

Run from the repository root after `pip install ./python`:

    python examples/notebook.py

Each step checks what it got (assert); the figures go to docs/python-*.png.
At h = 0.1 mm (M/15, a coarse grid: seconds per solve) the numbers are the
coarse grid's; the shipped scene's h = 0.05 mm gives the README's.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq

import voxfe

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
H = 0.1  # mm

# --- 1. A porosity sweep into a DataFrame --------------------------------
scene = voxfe.Scene.load(REPO / "scenes/rd-compression.toml", voxel_size=H)
porosities = [0.70, 0.75, 0.80, 0.85, 0.88]
df = voxfe.sweep(scene, vary={"porosity": porosities})
assert isinstance(df, pd.DataFrame) and len(df) == len(porosities)
assert (df["status"] == "ok").all(), df[["lattice.porosity", "status", "error"]]
assert df["e_eff"].is_monotonic_decreasing, df["e_eff"]
E_s = float(df["material_e"].iloc[0])
df["rho"] = 1.0 - df["porosity_measured"]  # relative density
df["e_rel"] = df["e_eff"] / E_s
print(df[["lattice.porosity", "porosity_measured", "strut_diameter", "e_eff",
          "e_eff_error_estimate", "fraction_exponent"]].to_string(index=False))

# --- 2. Gibson-Ashby: E/E_s = C * rho^n, fitted in log-log ----------------
n, log_c = np.polyfit(np.log(df["rho"]), np.log(df["e_rel"]), 1)
C = float(np.exp(log_c))
fit = C * df["rho"] ** n
r2 = 1 - np.sum((np.log(df["e_rel"]) - np.log(fit)) ** 2) / np.sum(
    (np.log(df["e_rel"]) - np.log(df["e_rel"]).mean()) ** 2
)
print(f"Gibson-Ashby: E/E_s = {C:.3f} * rho^{n:.3f} (R^2 = {r2:.5f})")
# Stretch-dominated lattices give n near 1, bending-dominated near 2; the
# rhombic dodecahedron bends (n about 2).
assert 1.5 < n < 3.0 and 0.05 < C < 5 and r2 > 0.99, (n, C, r2)

# --- 3. Design: the porosity whose E_eff is the target (brentq) ----------
# Fraction fill makes E_eff continuous in the porosity (no voxel steps),
# so a bracketing root finder converges on it.
target = 3000.0  # MPa
probes = []


def miss(phi):
    r = voxfe.run(scene.with_(porosity=phi))
    probes.append((1 - r.porosity_measured, r.e_eff))
    return r.e_eff - target


lo, hi = porosities[0], porosities[-1]
phi = brentq(miss, lo, hi, xtol=1e-4, rtol=1e-6, maxiter=30)
designed = voxfe.run(scene.with_(porosity=phi))
print(f"design: porosity {phi:.4f} (D = {designed.strut_diameter:.4f} mm) -> "
      f"E_eff = {designed.e_eff:.1f} MPa ± {100 * designed.e_eff_error_estimate:.1f} % "
      f"in {len(probes)} solves")
assert abs(designed.e_eff / target - 1) < 1e-3, designed.e_eff
assert designed.band[0] < target < designed.band[1]
# The interpolation of the sweep agrees with the search.
phi_interp = np.interp(np.log(target), np.log(df["e_eff"][::-1]), df["lattice.porosity"][::-1])
assert abs(phi_interp - phi) < 0.01, (phi_interp, phi)

# --- The figure of steps 1-3 ---------------------------------------------
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
rho = np.linspace(df["rho"].min() * 0.95, df["rho"].max() * 1.05, 100)
ax.errorbar(df["rho"], df["e_eff"], yerr=df["e_eff"] * df["e_eff_error_estimate"],
            fmt="o", capsize=3, label="voxfe sweep (± error band)")
ax.plot(rho, E_s * C * rho**n, "-", label=f"Gibson-Ashby fit: $E/E_s = {C:.2f}\\,\\rho^{{{n:.2f}}}$")
ax.plot([rho for rho, _ in probes], [e for _, e in probes], "x", color="gray",
        label=f"brentq probes ({len(probes)})")
ax.axhline(target, color="k", lw=0.8, ls="--")
ax.plot([1 - designed.porosity_measured],
        [designed.e_eff], "*", ms=14, color="C3",
        label=f"design: porosity {phi:.3f}, {designed.e_eff:.0f} MPa")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("relative density ρ = 1 − porosity (measured)")
ax.set_ylabel("E_eff, MPa")
ax.set_title(f"RD lattice, tantalum, 3×3×3 cells, h = {H} mm")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(DOCS / "python-gibson-ashby.png")
print(f"wrote {DOCS / 'python-gibson-ashby.png'}")

# --- 4. The von Mises field, off-screen with pyvista ---------------------
try:
    import pyvista as pv
except ImportError:
    pv = None
    print("skipped the pyvista picture: pyvista is not installed")
if pv is not None:
    pv.OFF_SCREEN = True
    grid = designed.to_pyvista()
    assert grid.n_cells == designed.total_voxels
    assert np.array_equal(grid.cell_data["von_mises"], designed.von_mises.ravel(order="F"))
    solid = grid.threshold(0.5, scalars="solid")
    assert solid.n_cells == designed.solid_voxels
    vm = designed.von_mises[designed.solid == 1]
    clim = [0.0, float(np.percentile(vm, 99))]
    p = pv.Plotter(off_screen=True, window_size=(900, 700))
    p.add_mesh(solid, scalars="von_mises", cmap="viridis", clim=clim,
               scalar_bar_args={"title": "von Mises, MPa", "vertical": True, "position_x": 0.86,
                                "position_y": 0.15, "height": 0.7, "width": 0.08})
    p.add_text(f"RD lattice, porosity {phi:.3f}, E_eff = {designed.e_eff:.0f} MPa, "
               f"h = {H} mm (compression along z)", font_size=10)
    p.camera_position = "iso"
    p.camera.zoom(0.9)
    out = DOCS / "python-von-mises.png"
    img = p.screenshot(str(out), return_img=True)
    p.close()
    assert img.shape[:2] == (700, 900)
    # Not a blank picture: many colours, the lattice in the middle.
    assert img.reshape(-1, img.shape[-1]).std(axis=0).max() > 20
    assert len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 100
    print(f"wrote {out}")

print("notebook: every step checked")
