//! The scene's `[load]` with its defaults resolved ([`ResolvedLoad`]); the
//! defaults are the load cases' own ([`crate::fem::load`]).

use super::{CaseName, PlatenSpec, Scene};
use crate::fem::load::bending;
use serde::Serialize;

/// A load case with its defaults resolved (lengths in mm).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum ResolvedLoad {
    Compression { bonded: bool },
    ThreePointBending { span: f64, contact: f64 },
    ImplantCompression { bonded: bool },
    Periodic,
}

impl Scene {
    /// The load case with its defaults resolved.
    pub fn resolved_load(&self) -> ResolvedLoad {
        match self.load.case {
            CaseName::Compression => ResolvedLoad::Compression {
                bonded: self.load.platens == Some(PlatenSpec::Bonded),
            },
            CaseName::ImplantCompression => ResolvedLoad::ImplantCompression {
                bonded: self.load.platens == Some(PlatenSpec::Bonded),
            },
            CaseName::Periodic => ResolvedLoad::Periodic,
            CaseName::ThreePointBending => ResolvedLoad::ThreePointBending {
                span: self
                    .load
                    .span
                    .unwrap_or(bending::DEFAULT_SPAN_FRACTION * self.box_size()[0]),
                contact: self.load.contact.unwrap_or(bending::DEFAULT_CONTACT),
            },
        }
    }
}
