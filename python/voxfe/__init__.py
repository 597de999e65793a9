"""voxfe from Python: voxel finite-element simulation of porous lattice implants.

A thin layer over the Rust library (``voxfe._voxfe``): the same scenes, the
same validation and messages, the same numbers and JSON fields as the
``voxfe`` command line.

    >>> import voxfe
    >>> scene = voxfe.Scene.load("scenes/rd-compression.toml", voxel_size=0.1)
    >>> r = voxfe.run(scene)
    >>> r.e_eff, r.e_eff_error_estimate          # MPa, relative error band
    >>> r.von_mises.shape                         # (nx, ny, nz), MPa per voxel
    >>> voxfe.sweep(scene, vary={"porosity": [0.7, 0.8]})   # a DataFrame

Overrides are given as keyword arguments with friendly names
(``voxel_size=0.1``, ``porosity=0.85``, see ``KEYS``), as dotted keys
(``**{"lattice.kind": "bcc"}`` or a dict), or as ``"key=value"`` strings,
exactly as ``--set``. Long calls release the GIL, report progress to an
optional callback (one dict per residual check, or per study step) and stop
on Ctrl-C with ``KeyboardInterrupt``.

Errors: ``SceneError`` (bad input; ``.key``, ``.value``, ``.allowed``),
``NotConverged`` (``.residual``, ``.iterations``, ``.result``),
``InternalError`` (a bug: a Rust panic caught at the boundary), all
``VoxfeError``.
"""

from __future__ import annotations

import json
import math
import warnings as _warnings
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from . import _voxfe
from ._voxfe import InternalError, NotConverged, SceneError, VoxfeError

__version__ = _voxfe.__version__
__all__ = [
    "Scene",
    "Result",
    "Homogenized",
    "run",
    "homogenize",
    "converge",
    "design",
    "sweep",
    "gpu_adapter",
    "KEYS",
    "VoxfeError",
    "SceneError",
    "NotConverged",
    "InternalError",
    "VoxfeWarning",
]

#: Friendly keyword names and the scene keys they set.
KEYS = {
    "name": "name",
    "material": "material.preset",
    "E": "material.E",
    "nu": "material.nu",
    "yield_strength": "material.yield_strength",
    "critical_strain": "material.critical_strain",
    "lattice": "lattice.kind",
    "kind": "lattice.kind",
    "cell": "lattice.cell",
    "strut": "lattice.strut",
    "porosity": "lattice.porosity",
    "level": "lattice.level",
    "origin": "lattice.origin",
    "shape": "specimen.shape",
    "size": "specimen.size",
    "diameter": "specimen.diameter",
    "height": "specimen.height",
    "voxel_size": "voxel.size",
    "h": "voxel.size",
    "fill": "voxel.fill",
    "fraction_exponent": "voxel.fraction_exponent",
    "max_memory_mb": "voxel.max_memory_mb",
    "load_case": "load.case",
    "platens": "load.platens",
    "span": "load.span",
    "contact": "load.contact",
    "tolerance": "solver.tolerance",
    "max_iterations": "solver.max_iterations",
    "preconditioner": "solver.preconditioner",
    "element": "solver.element",
    "check_every": "solver.check_every",
}

Progress = Optional[Callable[[dict], Any]]


class VoxfeWarning(UserWarning):
    """What the CLI prints as ``warning:`` (resolution, fallbacks)."""


def _key(name: str) -> str:
    """The dotted scene key of a keyword (friendly name, dotted key, or
    ``a__b`` for ``a.b``)."""
    if "." in name:
        return name
    if name in KEYS:
        return KEYS[name]
    if "__" in name:
        return name.replace("__", ".")
    err = SceneError(
        f"{name}: not a scene key; allowed: a dotted key (e.g. lattice.porosity) "
        f"or one of {', '.join(KEYS)}"
    )
    err.key, err.value, err.allowed = name, None, "a dotted key or " + ", ".join(KEYS)
    raise err


def _toml(value: Any) -> str:
    """A Python value as a TOML value (what ``--set key=VALUE`` takes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"cannot give {value!r} ({type(value).__name__}) as a scene value")


def _overrides(
    overrides: Union[None, Mapping[str, Any], Iterable[str]], kw: Mapping[str, Any]
) -> list:
    """``key=value`` strings from a dict (or list of strings) and keywords."""
    out = []
    if isinstance(overrides, Mapping):
        out += [f"{_key(k)}={_toml(v)}" for k, v in overrides.items()]
    elif isinstance(overrides, str):
        out.append(overrides)
    elif overrides is not None:
        out += list(overrides)
    out += [f"{_key(k)}={_toml(v)}" for k, v in kw.items()]
    return out


class Scene:
    """A validated scene (immutable: edits give a new scene)."""

    __slots__ = ("_s",)

    def __init__(self, inner):
        self._s = inner

    @classmethod
    def load(cls, path, overrides=None, **kw) -> "Scene":
        """The scene file at ``path`` with overrides: keywords
        (``voxel_size=0.1``, ``**{"lattice.kind": "bcc"}``), a dict of
        dotted keys, or ``"key=value"`` strings as ``--set``."""
        return cls(_voxfe.Scene.load(str(path), _overrides(overrides, kw)))

    @classmethod
    def from_toml(cls, text: str, overrides=None, *, name: str = "<string>", **kw) -> "Scene":
        """A scene from TOML text (relative paths in it are taken from the
        current folder; ``name`` names it in errors and provenance)."""
        return cls(_voxfe.Scene.parse(text, name, _overrides(overrides, kw)))

    def with_(self, overrides=None, **kw) -> "Scene":
        """This scene with keys set (as ``load``'s overrides), checked again
        as a whole."""
        return Scene(self._s.with_settings(_overrides(overrides, kw)))

    def with_backend(self, backend: str, adapter: Optional[str] = None) -> "Scene":
        """This scene solved on ``backend`` ("auto", "cpu", "gpu")."""
        return Scene(self._s.with_backend(backend, adapter))

    def with_cells(self, cells: int) -> "Scene":
        """This scene as a periodic cell of ``cells`` lattice cells per axis."""
        return Scene(self._s.with_cells(cells))

    name = property(lambda self: self._s.name)
    path = property(lambda self: self._s.path)
    overrides = property(lambda self: list(self._s.overrides))
    load_case = property(lambda self: self._s.load_case)
    is_periodic = property(lambda self: self._s.is_periodic)
    voxel_size = property(lambda self: self._s.voxel_size)
    backend = property(lambda self: self._s.backend)

    def to_toml(self) -> str:
        """Every key after overrides and defaults, as TOML."""
        return self._s.to_toml()

    def __eq__(self, other):
        return isinstance(other, Scene) and self._s == other._s

    __hash__ = None

    def __repr__(self):
        return repr(self._s)


def _on(scene: Scene, backend: Optional[str], adapter: Optional[str]) -> Scene:
    if not isinstance(scene, Scene):
        raise TypeError(f"expected a voxfe.Scene, got {type(scene).__name__}")
    if backend is None and adapter is None:
        return scene
    return scene.with_backend(backend or scene.backend, adapter)


def _warn(lines):
    for w in lines:
        _warnings.warn(w, VoxfeWarning, stacklevel=4)


def _array(buf) -> np.ndarray:
    """A numpy view of a library vector (no copy)."""
    return np.frombuffer(buf, dtype=np.dtype(buf.dtype))


class _Record:
    """The fields of a JSON object as attributes (and ``to_dict()``)."""

    def __init__(self, d: dict):
        object.__setattr__(self, "_d", d)

    def __getattr__(self, name):
        d = object.__getattribute__(self, "_d")
        if name in d:
            return d[name]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._d))

    def __getitem__(self, key):
        return self._d[key]

    def keys(self):
        return self._d.keys()

    def to_dict(self) -> dict:
        """The object as ``voxfe run --json`` prints it (a deep copy)."""
        return json.loads(json.dumps(self._d))

    def to_json(self) -> str:
        return json.dumps(self._d)


#: The modulus of each load case, as ``voxfe converge`` takes it.
_MODULUS = {
    "compression": "e_eff",
    "three-point-bending": "e_flex",
    "implant-compression": "apparent_modulus",
}


class Result(_Record):
    """A loaded run: every field of ``voxfe run --json`` as an attribute
    (``r.e_eff``, ``r.provenance`` ...), ``to_dict()``, and the fields as
    numpy arrays:

    - ``displacement``: (active nodes, 3), mm, rows in ``node_ids`` order;
    - ``node_ids``: the grid node id of each row (``i + (nx+1)(j + (ny+1)k)``);
    - ``von_mises``, ``sed``, ``ees``: (nx, ny, nz), per voxel, 0 in void;
    - ``solid`` (0/1) and ``solid_fraction`` (φ): (nx, ny, nz).

    The voxel arrays are indexed ``[i, j, k]`` (x, y, z); they are views of
    the solver's buffers in voxel-id order (x fastest: Fortran order).
    """

    def __init__(self, d, fields):
        super().__init__(d)
        object.__setattr__(self, "_f", fields)
        object.__setattr__(self, "_cache", {})

    def _grid(self):
        return self._f["grid"]

    @property
    def dims(self):
        return self._grid().dims

    @property
    def h(self) -> float:
        return self._grid().h

    def _voxels(self, buf):
        return _array(buf).reshape(self._grid().dims, order="F")

    def _cached(self, name, make):
        c = self._cache
        if name not in c:
            c[name] = make()
            c[name].flags.writeable = False
        return c[name]

    @property
    def displacement(self) -> np.ndarray:
        return self._cached("displacement", lambda: _array(self._f["displacement"]).reshape(-1, 3))

    @property
    def node_ids(self) -> np.ndarray:
        return self._cached("node_ids", lambda: _array(self._grid().node_ids()))

    @property
    def von_mises(self) -> np.ndarray:
        return self._cached("von_mises", lambda: self._voxels(self._f["von_mises"]))

    @property
    def sed(self) -> np.ndarray:
        return self._cached("sed", lambda: self._voxels(self._f["sed"]))

    @property
    def ees(self) -> np.ndarray:
        return self._cached("ees", lambda: self._voxels(self._f["ees"]))

    @property
    def solid(self) -> np.ndarray:
        return self._cached("solid", lambda: self._voxels(self._grid().solid()))

    @property
    def solid_fraction(self) -> np.ndarray:
        return self._cached("solid_fraction", lambda: self._voxels(self._grid().fraction()))

    def displacement_grid(self) -> np.ndarray:
        """The displacement at every grid node, (nx+1, ny+1, nz+1, 3), 0 at
        inactive nodes (what the ``.vti`` holds, in f64)."""
        nx, ny, nz = self.dims
        u = np.zeros(((nx + 1) * (ny + 1) * (nz + 1), 3))
        u[self.node_ids] = self.displacement
        return u.reshape((nx + 1, ny + 1, nz + 1, 3), order="F")

    @property
    def modulus(self) -> Optional[float]:
        """The load case's modulus (E_eff, E_flex or the apparent modulus), MPa."""
        return self._d.get(_MODULUS.get(self._d.get("load_case"), "e_eff"))

    @property
    def error_estimate(self) -> Optional[float]:
        """The modulus's estimated relative error (a fraction), or None."""
        q = _MODULUS.get(self._d.get("load_case"), "e_eff")
        return self._d.get(q + "_error_estimate")

    @property
    def band(self):
        """The modulus's error band ``(low, high)``, MPa, or None."""
        m, e = self.modulus, self.error_estimate
        if m is None or e is None:
            return None
        return (m * (1.0 - e), m * (1.0 + e))

    def to_pyvista(self):
        """The grid as a ``pyvista.ImageData``: cell arrays ``solid``,
        ``solid_fraction``, ``von_mises``, ``sed``, ``ees``; point array
        ``displacement`` (needs pyvista)."""
        import pyvista as pv

        nx, ny, nz = self.dims
        h = self.h
        g = pv.ImageData(dimensions=(nx + 1, ny + 1, nz + 1), spacing=(h, h, h))
        for name in ("solid", "solid_fraction", "von_mises", "sed", "ees"):
            g.cell_data[name] = getattr(self, name).ravel(order="F")
        g.point_data["displacement"] = self.displacement_grid().reshape(-1, 3, order="F")
        return g

    def __repr__(self):
        m, b = self.modulus, self.error_estimate
        band = f" ± {100 * b:.1f} %" if b is not None else ""
        mod = f"{m:.1f} MPa{band}" if m is not None else "no modulus"
        return f"<voxfe.Result {self._d.get('name')!r}: {mod}, h = {self._d.get('voxel_size')} mm>"


class Homogenized(_Record):
    """A periodic cell's homogenization: every field of ``voxfe
    homogenize --json`` as an attribute, and ``C``, C^H as a 6×6 numpy
    array, MPa (Voigt order 11, 22, 33, 23, 13, 12; engineering shears)."""

    def __init__(self, d, C):
        super().__init__(d)
        C = np.array(C, dtype=np.float64)
        C.flags.writeable = False
        object.__setattr__(self, "C", C)

    @property
    def S(self) -> np.ndarray:
        """The compliance C⁻¹, 1/MPa."""
        return np.linalg.inv(self.C)

    @property
    def e_h(self) -> Optional[float]:
        d = self._d.get("derived") or {}
        return d.get("e_h")

    def __repr__(self):
        return f"<voxfe.Homogenized {self._d.get('voxel', {}).get('name')!r}: C^H 6×6>"


def _wrap(out):
    kind, d, warns, extras = out
    _warn(warns)
    if kind == "loaded":
        return Result(d, extras)
    return Homogenized(d, extras["C"])


def _not_converged_result(e: NotConverged):
    """Turns the dict a ``NotConverged`` carries into a ``Result``-like record."""
    if isinstance(getattr(e, "result", None), dict):
        e.result = _Record(e.result)
    return e


def run(
    scene: Scene,
    backend: Optional[str] = None,
    progress: Progress = None,
    *,
    adapter: Optional[str] = None,
    error_from=None,
) -> Union[Result, Homogenized]:
    """Solves the scene as ``voxfe run`` does and returns its ``Result``
    (a periodic scene: its ``Homogenized``). ``backend`` ("auto", "cpu",
    "gpu"; default the scene's ``solver.backend``) and ``adapter`` as
    ``--backend`` and ``--adapter``; ``error_from`` a ``voxfe converge
    --json`` file of the scene, as ``--error-from``. ``progress(dict)`` is
    called at each residual check. Raises ``NotConverged`` (with the
    result's fields as ``.result``) when the solve did not converge."""
    scene = _on(scene, backend, adapter)
    try:
        out = _voxfe.run(scene._s, progress, None if error_from is None else str(error_from))
    except NotConverged as e:
        raise _not_converged_result(e)
    return _wrap(out)


def homogenize(
    scene: Scene,
    cells: Optional[int] = None,
    backend: Optional[str] = None,
    progress: Progress = None,
    *,
    adapter: Optional[str] = None,
) -> Homogenized:
    """C^H of the scene's lattice, as ``voxfe homogenize``: the scene made a
    periodic cell of ``cells`` lattice cells per axis (default: the scene as
    it is when it is periodic already, else one cell)."""
    scene = _on(scene, backend, adapter)
    if cells is not None or not scene.is_periodic:
        scene = scene.with_cells(1 if cells is None else cells)
    try:
        out = _voxfe.run(scene._s, progress, None)
    except NotConverged as e:
        raise _not_converged_result(e)
    return _wrap(out)


def converge(
    scene: Scene,
    levels: int = 3,
    ratio: float = 1.5,
    quantities: Sequence[str] = (),
    backend: Optional[str] = None,
    progress: Progress = None,
) -> dict:
    """The convergence study of ``voxfe converge --json``: the scene's
    ``voxel.size`` the coarsest of ``levels`` grids refined by ``ratio``;
    the estimate (Richardson value, order, error) of each quantity."""
    scene = _on(scene, backend, None)
    return _voxfe.converge(scene._s, levels, ratio, list(quantities), progress)


def design(
    scene: Scene,
    target_modulus: float,
    tolerance: float = 0.01,
    porosity_range: Sequence[float] = (0.30, 0.95),
    max_solves: int = 24,
    backend: Optional[str] = None,
    progress: Progress = None,
) -> dict:
    """The porosity whose modulus hits ``target_modulus`` (MPa), as ``voxfe
    design --json``: the design's run fields, ``target_modulus``,
    ``solves`` and the provenance of the design's scene."""
    scene = _on(scene, backend, None)
    lo, hi = porosity_range
    return _voxfe.design(
        scene._s, float(target_modulus), float(tolerance), (float(lo), float(hi)), int(max_solves), progress
    )


def _vary(vary) -> list:
    """``--vary`` strings from a dict (values: a list, or a ``"a:b:n"`` /
    ``"a,b,c"`` string) or a list of strings."""
    if isinstance(vary, Mapping):
        out = []
        for k, v in vary.items():
            if isinstance(v, str):
                values = v
            else:
                values = ",".join(
                    repr(float(x)) if isinstance(x, (float, np.floating)) else str(x)
                    for x in np.atleast_1d(np.asarray(v, dtype=object))
                )
            out.append(f"{_key(k)}={values}")
        return out
    if isinstance(vary, str):
        return [vary]
    return list(vary or [])


def sweep(
    scene: Scene,
    vary=None,
    backend: Optional[str] = None,
    progress: Progress = None,
    *,
    frame: Optional[bool] = None,
):
    """Runs every case of the sweep (``vary``: ``{"porosity": [0.7, 0.8]}``,
    ``{"lattice.kind": ["bcc", "octet"]}``, a ``"KEY=a:b:n"`` string or a
    list of them; default the scene's ``[sweep] vary``), as ``voxfe sweep``
    without writing files. Returns the rows of ``results.jsonl``: a pandas
    DataFrame when pandas is importable (``frame=False``: a list of dicts).
    A case that fails is a row with ``status`` "failed" and its ``error``."""
    scene = _on(scene, backend, None)
    rows = _voxfe.sweep(scene._s, _vary(vary), progress)
    if frame is False:
        return rows
    try:
        import pandas as pd
    except ImportError:
        if frame:
            raise
        return rows
    return pd.DataFrame(rows)


def gpu_adapter() -> Optional[str]:
    """The GPU adapter a ``gpu`` backend would take ("name / backend"), or
    None when there is none."""
    return _voxfe.gpu_adapter()
