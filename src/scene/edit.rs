//! Typed edits of a loaded scene: [`Scene::with_voxel_size`],
//! [`Scene::with_porosity`], [`Scene::with_cells`], the generic
//! [`Scene::with_settings`] (a sweep case's values), and the solve
//! settings [`Scene::with_backend`] and [`Scene::with_adapter`].
//!
//! A scene remembers where it came from ([`Origin`]: the file's path and
//! the hash of its text, the TOML table after the overrides, and the
//! overrides as given). An edit sets its keys in that table and builds the
//! scene again exactly as [`Scene::load`] does (defaults, the strut /
//! porosity / level alternatives, the image header, every check), so an
//! edited scene is refused with the same errors, naming the same keys and
//! values, as the file loaded with the same `key=value` overrides; the
//! file itself is not read again. The edits are recorded with the
//! overrides ([`Scene::overrides`]), which is what provenance reports.
//!
//! [`loads`] counts the scene files read by this process: a command reads
//! its scene once (tests/scene_once.rs).

use super::{Backend, Scene, SceneError};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Scene files read by this process ([`Scene::load`],
/// [`Scene::load_as_periodic`]).
static LOADS: AtomicUsize = AtomicUsize::new(0);

/// How many scene files this process has read: a command loads its scene
/// once and hands the [`Scene`] on; the studies edit it, they do not read
/// the file again.
pub fn loads() -> usize {
    LOADS.load(Ordering::Relaxed)
}

/// Counts one scene file read.
pub(super) fn count_load() {
    LOADS.fetch_add(1, Ordering::Relaxed);
}

/// Where a scene came from: not a key, and not part of what the scene is
/// (two scenes with the same keys are equal, however they were made).
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The scene file as given (names the scene in errors and provenance).
    pub(super) path: PathBuf,
    /// FNV-1a hash of the file's text ([`crate::provenance::scene_hash`]).
    pub(super) file_hash: String,
    /// The file's table with the overrides and edits applied, before
    /// defaults and checks.
    pub(super) table: toml::Table,
    /// The overrides and edits applied, as `key=value`, in order.
    pub(super) overrides: Vec<String>,
}

impl PartialEq for Origin {
    fn eq(&self, _: &Origin) -> bool {
        true
    }
}

impl Origin {
    /// The origin of the scene text `text`, read from `path`.
    pub(super) fn new(path: &Path, text: &str, table: toml::Table) -> Origin {
        Origin {
            path: path.to_path_buf(),
            file_hash: crate::provenance::scene_hash(text.as_bytes()),
            table,
            overrides: Vec::new(),
        }
    }
}

/// One `key=value` edit of a scene: a dotted key and a typed TOML value.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: String,
    pub value: toml::Value,
    /// `key=value` as given, or as the value prints.
    text: String,
}

impl Setting {
    /// `key` set to `value`.
    pub fn new(key: &str, value: impl Into<toml::Value>) -> Setting {
        let value = value.into();
        let shown = match &value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Float(x) => x.to_string(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            v => v.to_string(),
        };
        Setting {
            text: format!("{key}={shown}"),
            key: key.to_string(),
            value,
        }
    }

    /// A `key=value` override as a scene takes it (`lattice.porosity=0.85`):
    /// the value is read as a TOML value (`0.85`, `[1, 2, 3]`, `"bcc"`) or,
    /// failing that, as a bare string (`lattice.kind=bcc`).
    pub fn parse(arg: &str) -> Result<Setting, SceneError> {
        let bad = || SceneError::BadOverride {
            arg: arg.to_string(),
        };
        let (key, value) = arg.split_once('=').ok_or_else(bad)?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(bad());
        }
        let value = value.trim();
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        Ok(Setting {
            key: key.to_string(),
            value: parsed,
            text: arg.to_string(),
        })
    }

    /// Sets the key in `table`. A strut, a porosity and a level are
    /// alternatives: setting one removes the others, so
    /// `lattice.porosity=0.85` works on a scene that gives a strut.
    pub(super) fn apply(&self, table: &mut toml::Table) -> Result<(), SceneError> {
        let bad = || SceneError::BadOverride {
            arg: self.text.clone(),
        };
        let parts: Vec<&str> = self.key.split('.').collect();
        let mut t = table;
        for p in &parts[..parts.len() - 1] {
            let entry = t
                .entry(p.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            t = entry.as_table_mut().ok_or_else(bad)?;
        }
        let last = parts[parts.len() - 1];
        if parts.len() == 2
            && parts[0] == "lattice"
            && ["strut", "porosity", "level"].contains(&last)
        {
            for other in ["strut", "porosity", "level"] {
                t.remove(other);
            }
        }
        t.insert(last.to_string(), self.value.clone());
        Ok(())
    }
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Scene {
    /// The scene file this scene was read from, as given.
    pub fn path(&self) -> &Path {
        &self.origin.path
    }

    /// The overrides applied to the file and the edits made since, as
    /// `key=value`, in order (what provenance records).
    pub fn overrides(&self) -> &[String] {
        &self.origin.overrides
    }

    /// FNV-1a hash of the scene file's text, as read.
    pub fn file_hash(&self) -> &str {
        &self.origin.file_hash
    }

    /// The table this scene was built from (its serialized form for a
    /// scene that was not loaded).
    fn source_table(&self) -> toml::Table {
        if self.origin.table.is_empty() {
            toml::Table::try_from(self).unwrap_or_default()
        } else {
            self.origin.table.clone()
        }
    }

    /// Builds a scene from its table, as loading does after the overrides:
    /// defaults, the image header, every check.
    pub(super) fn from_origin(origin: Origin) -> Result<Scene, SceneError> {
        let scene = Scene::deserialize(toml::Value::Table(origin.table.clone())).map_err(|e| {
            SceneError::Toml {
                path: origin.path.clone(),
                message: format!(
                    "after set={}: {}",
                    origin.overrides.join(" set="),
                    e.message()
                ),
            }
        })?;
        scene.finish(origin)
    }

    /// The last steps of a load: the origin kept, the image resolved, the
    /// scene checked.
    pub(super) fn finish(mut self, origin: Origin) -> Result<Scene, SceneError> {
        self.base_dir = origin
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        self.origin = origin;
        self.resolve_image()?;
        self.validate()?;
        Ok(self)
    }

    /// This scene with `settings` applied in order, then built and checked
    /// as a whole (as [`Scene::load`] with the same overrides after the
    /// scene's own would be).
    pub fn with_settings(&self, settings: &[Setting]) -> Result<Scene, SceneError> {
        let mut origin = Origin {
            table: self.source_table(),
            ..self.origin.clone()
        };
        for s in settings {
            s.apply(&mut origin.table)?;
            origin.overrides.push(s.to_string());
        }
        Scene::from_origin(origin)
    }

    /// This scene with one key set (see [`Scene::with_settings`]).
    pub fn with_setting(
        &self,
        key: &str,
        value: impl Into<toml::Value>,
    ) -> Result<Scene, SceneError> {
        self.with_settings(&[Setting::new(key, value)])
    }

    /// This scene at voxel size `h` (`voxel.size`).
    pub fn with_voxel_size(&self, h: f64) -> Result<Scene, SceneError> {
        self.with_setting("voxel.size", h)
    }

    /// This scene at nominal lattice porosity `phi` (`lattice.porosity`,
    /// in place of a strut or a level).
    pub fn with_porosity(&self, phi: f64) -> Result<Scene, SceneError> {
        self.with_setting("lattice.porosity", phi)
    }

    /// This scene made a periodic cell of `cells` lattice cells per axis
    /// (see [`Scene::load_as_periodic`]).
    pub fn with_cells(&self, cells: usize) -> Result<Scene, SceneError> {
        self.with_cells_and(cells, &[])
    }

    /// [`Scene::with_cells`] with `settings` applied first, checked only
    /// as the periodic scene (a voxel size that divides the cell but not
    /// the original specimen: a calibration cell at M/n).
    pub fn with_cells_and(&self, cells: usize, settings: &[Setting]) -> Result<Scene, SceneError> {
        let mut origin = Origin {
            table: self.source_table(),
            ..self.origin.clone()
        };
        for s in settings {
            s.apply(&mut origin.table)?;
            origin.overrides.push(s.to_string());
        }
        super::periodic::make_periodic(&mut origin.table, Some(cells))?;
        Scene::parse_periodic(origin)
    }

    /// This scene without its `[as_built]` section: the ideal geometry's
    /// values alone (what `voxfe fit` simulates, and the strut-offset
    /// solve of an as-built value).
    pub fn without_as_built(&self) -> Scene {
        let mut scene = self.clone();
        scene.origin.table.remove("as_built");
        scene.as_built = None;
        scene
    }

    /// This scene solved on `backend` (`solver.backend`): a solve setting,
    /// recorded in the scene but not among its overrides.
    pub fn with_backend(mut self, backend: Backend) -> Scene {
        let value = toml::Value::try_from(backend).expect("a backend serializes");
        self.set_solver_key("backend", value);
        self.solver.backend = backend;
        self
    }

    /// This scene solved on the GPU adapter whose name holds `adapter`
    /// (`solver.adapter`): a solve setting, as [`Scene::with_backend`].
    pub fn with_adapter(mut self, adapter: &str) -> Scene {
        self.set_solver_key("adapter", adapter.into());
        self.solver.adapter = Some(adapter.to_string());
        self
    }

    /// Sets `[solver] key` in the origin's table (kept for later edits).
    fn set_solver_key(&mut self, key: &str, value: toml::Value) {
        if self.origin.table.is_empty() {
            return;
        }
        if let Some(t) = self
            .origin
            .table
            .entry("solver")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
        {
            t.insert(key.to_string(), value);
        }
    }
}

impl Scene {
    /// `voxfe homogenize`'s scene: the scene at `path` with `overrides`,
    /// made periodic. When its `load.case` is not `"periodic"` already, or
    /// `cells` is given, its `[load]` becomes `case = "periodic"` and its
    /// `[specimen]` a box of `cells` (default 1) lattice cells per axis:
    /// the lattice, material, voxel and solver keys are the scene's. The
    /// change is made before validation, so limits (e.g. the memory
    /// estimate) apply to the cell, not to the scene's own specimen.
    pub fn load_as_periodic(
        path: &Path,
        overrides: &[String],
        cells: Option<usize>,
    ) -> Result<Scene, SceneError> {
        if cells == Some(0) {
            return Err(super::invalid("cells", 0, "at least 1 cell per axis"));
        }
        count_load();
        let text = std::fs::read_to_string(path).map_err(|error| SceneError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|e| SceneError::Toml {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })?;
        let mut origin = Origin::new(path, &text, table);
        for arg in overrides {
            Setting::parse(arg)?.apply(&mut origin.table)?;
            origin.overrides.push(arg.clone());
        }
        super::periodic::make_periodic(&mut origin.table, cells)?;
        Scene::parse_periodic(origin)
    }

    /// The scene of a table made periodic ([`make_periodic`]), parsed as
    /// its TOML text (errors name a line and column of that text).
    pub(super) fn parse_periodic(origin: Origin) -> Result<Scene, SceneError> {
        let text = toml::to_string(&origin.table).expect("a TOML table serializes");
        let scene: Scene = toml::from_str(&text).map_err(|e| SceneError::Toml {
            path: origin.path.clone(),
            message: super::with_line_col(&text, &e),
        })?;
        scene.finish(origin)
    }
}
