//! `--set key=value`: edits of the parsed TOML table before it becomes a
//! [`Scene`](super::Scene).

use super::SceneError;

/// Sets `key` (dotted) in `table` from a `key=value` string. The value is
/// read as a TOML value (`0.85`, `[1, 2, 3]`, `"bcc"`) or, failing that, as
/// a bare string (`lattice.kind=bcc`).
pub(super) fn apply_override(table: &mut toml::Table, arg: &str) -> Result<(), SceneError> {
    let bad = || SceneError::BadOverride {
        arg: arg.to_string(),
    };
    let (key, value) = arg.split_once('=').ok_or_else(bad)?;
    let key = key.trim();
    let parts: Vec<&str> = key.split('.').collect();
    if key.is_empty() || parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    let value = value.trim();
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    let mut t = table;
    for p in &parts[..parts.len() - 1] {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry.as_table_mut().ok_or_else(bad)?;
    }
    let last = parts[parts.len() - 1];
    // A strut and a porosity (or level) are alternatives: setting one
    // replaces the other, so `--set lattice.porosity=0.85` works on a scene
    // that gives a strut diameter.
    if parts.len() == 2 && parts[0] == "lattice" && ["strut", "porosity", "level"].contains(&last) {
        for other in ["strut", "porosity", "level"] {
            t.remove(other);
        }
    }
    t.insert(last.to_string(), parsed);
    Ok(())
}
