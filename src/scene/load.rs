//! The scene's `[load]`: [`LoadSpec`], the table as the file writes it,
//! and [`Scene::load_case`], the [`LoadCase`] it names with its defaults
//! filled in (the defaults are the load cases' own, [`crate::fem::load`]).

use serde::{Deserialize, Deserializer, Serialize};

use super::{Scene, Shape};
use crate::fem::load::{bending, LoadCase, Platens};

/// `[load]` as the scene file writes it: the case by name and the keys the
/// file gives (a key left out is not written back, so the canonical TOML
/// of a scene holds what its file said). Which keys a case takes is
/// checked when the scene is validated; [`Scene::load_case`] gives the
/// case with its defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// `load.case`: one of [`LoadCase::NAMES`] (default `compression`).
    #[serde(default = "compression", deserialize_with = "case_name")]
    pub(super) case: Name,
    /// Compression and implant compression: the platens' contact.
    pub(super) platens: Option<Platens>,
    /// Three-point bending: support span S, mm (default 0.75·Lx).
    pub(super) span: Option<f64>,
    /// Three-point bending: contact width c, mm (default 1 mm).
    pub(super) contact: Option<f64>,
}

/// A name of [`LoadCase::NAMES`] (an alias, so that serde does not take a
/// `&'static str` field as borrowed from the input).
type Name = &'static str;

impl Default for LoadSpec {
    /// No `[load]` table: compression between frictionless platens.
    fn default() -> Self {
        LoadSpec {
            case: compression(),
            platens: None,
            span: None,
            contact: None,
        }
    }
}

fn compression() -> &'static str {
    LoadCase::NAMES[0]
}

/// `load.case`: a name of [`LoadCase::NAMES`], refused otherwise with the
/// names allowed.
fn case_name<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    struct Name;
    impl serde::de::Visitor<'_> for Name {
        type Value = &'static str;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a load case, one of {}", LoadCase::NAMES.join(", "))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<&'static str, E> {
            LoadCase::NAMES
                .into_iter()
                .find(|n| *n == v)
                .ok_or_else(|| E::unknown_variant(v, &LoadCase::NAMES))
        }
    }
    d.deserialize_str(Name)
}

impl Scene {
    /// The load case of the scene with its defaults: frictionless platens;
    /// in three-point bending the span 0.75·Lx and the contact width 1 mm;
    /// an implant's footprint area and height from its envelope (a
    /// cylinder's circle and height, else the box), without the envelope's
    /// surfaces (the run attaches them: `crate::pipeline::load`).
    pub fn load_case(&self) -> LoadCase {
        let l = &self.load;
        let platens = l.platens.unwrap_or_default();
        let [lx, ly, lz] = self.box_size();
        match l.case {
            "three-point-bending" => LoadCase::ThreePointBending {
                span: l.span.unwrap_or(bending::DEFAULT_SPAN_FRACTION * lx),
                contact: l.contact.unwrap_or(bending::DEFAULT_CONTACT),
            },
            "implant-compression" => {
                let sp = &self.specimen;
                let (footprint_area, height) = match sp.shape {
                    Shape::Cylinder => {
                        let d = sp.diameter.unwrap_or(lx);
                        (std::f64::consts::PI * d * d / 4.0, sp.height.unwrap_or(lz))
                    }
                    Shape::Box | Shape::Stl | Shape::Image => (lx * ly, lz),
                };
                LoadCase::ImplantCompression {
                    platens,
                    footprint_area,
                    height,
                    envelope: None,
                }
            }
            "periodic" => LoadCase::Periodic,
            // Deserialized from LoadCase::NAMES: "compression".
            _ => LoadCase::Compression { platens },
        }
    }
}
