//! [`Scene::as_built_model`]: the scene's `[as_built]` section resolved to a
//! knockdown model (read from `voxfe fit`'s JSON or given inline), each key
//! checked.

use super::{invalid, Scene, SceneError};

impl Scene {
    /// The scene's `[as_built]` model (`None` without the section): read
    /// from the fit's JSON (`from`, relative to the scene file) or given
    /// inline; each key checked, naming it, its value and what is allowed.
    pub fn as_built_model(
        &self,
    ) -> Result<Option<crate::study::as_built::model::AsBuilt>, SceneError> {
        use crate::study::as_built::model::{AsBuilt, ModelKind};
        let Some(a) = &self.as_built else {
            return Ok(None);
        };
        let model = if let Some(from) = &a.from {
            if a.model.is_some() || a.k.is_some() || a.m.is_some() || a.strut_offset.is_some() {
                return Err(invalid(
                    "as_built.from",
                    format!("{:?}", from.display().to_string()),
                    "give from alone (the fit's JSON), or the model inline (model, k, m, strut_offset), not both",
                ));
            }
            let (v, bad) = self.fit_json(from)?;
            serde_json::from_value::<AsBuilt>(v.get("as_built").cloned().unwrap_or_default())
                .map_err(|e| bad(format!("no valid \"as_built\" object: {e}")))?
        } else {
            let names = ModelKind::ALL.map(ModelKind::name).join(", ");
            let name = a.model.as_deref().ok_or_else(|| {
                invalid(
                    "as_built.model",
                    "(missing)",
                    format!("allowed: {names}, or from = \"fit.json\" (voxfe fit --json)"),
                )
            })?;
            let kind = ModelKind::from_name(name).ok_or_else(|| {
                invalid(
                    "as_built.model",
                    format!("{name:?}"),
                    format!("allowed: {names}"),
                )
            })?;
            let k = a.k.ok_or_else(|| {
                invalid(
                    "as_built.k",
                    "(missing)",
                    "the factor k is required: a positive number",
                )
            })?;
            let needs =
                |key: &'static str, v: Option<f64>, model: ModelKind| -> Result<f64, SceneError> {
                    match (v, kind == model) {
                        (Some(v), true) => Ok(v),
                        (None, true) => Err(invalid(
                            key,
                            "(missing)",
                            format!("model = \"{}\" needs it", model.name()),
                        )),
                        (Some(v), false) => Err(invalid(
                            key,
                            v,
                            format!("only model = \"{}\" takes it, not \"{name}\"", model.name()),
                        )),
                        (None, false) => Ok(0.0),
                    }
                };
            AsBuilt {
                model: kind,
                k,
                m: needs("as_built.m", a.m, ModelKind::PowerLaw)?,
                strut_offset: needs(
                    "as_built.strut_offset",
                    a.strut_offset,
                    ModelKind::StrutOffset,
                )?,
                loo_error: a.loo_error.unwrap_or(0.0),
                porosity_range: a.porosity_range.map(|[lo, hi]| (lo, hi)),
            }
        };
        self.check_model(&model)?;
        Ok(Some(model))
    }

    /// The yield strength's model of the fit the scene's `[as_built]`
    /// section reads (`from`; its `yield_strength.as_built` object), or
    /// `None`: no section, a model given inline (the inline keys describe
    /// the modulus only), or a fit whose tests gave no yield strength.
    /// Checked as the modulus model is, naming `as_built.from`.
    pub fn as_built_yield_model(
        &self,
    ) -> Result<Option<crate::study::as_built::model::AsBuilt>, SceneError> {
        use crate::study::as_built::model::AsBuilt;
        let Some(from) = self.as_built.as_ref().and_then(|a| a.from.as_ref()) else {
            return Ok(None);
        };
        let (v, bad) = self.fit_json(from)?;
        let y = match v.get("yield_strength").and_then(|y| y.get("as_built")) {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(y) => y.clone(),
        };
        let m = serde_json::from_value::<AsBuilt>(y)
            .map_err(|e| bad(format!("no valid \"yield_strength.as_built\" object: {e}")))?;
        self.check_model(&m)
            .map_err(|e| bad(format!("its yield model: {e}")))?;
        Ok(Some(m))
    }

    /// The range checks of a knockdown model, each error naming its
    /// `as_built.*` key, the value and what is allowed.
    fn check_model(
        &self,
        model: &crate::study::as_built::model::AsBuilt,
    ) -> Result<(), SceneError> {
        use crate::study::as_built::model::ModelKind;
        if !(model.k.is_finite() && model.k > 0.0) {
            return Err(invalid("as_built.k", model.k, "allowed: a positive factor"));
        }
        if !model.m.is_finite() || model.m.abs() > 20.0 {
            return Err(invalid(
                "as_built.m",
                model.m,
                "allowed: an exponent with |m| ≤ 20",
            ));
        }
        if !(0.0..5.0).contains(&model.loo_error) {
            return Err(invalid(
                "as_built.loo_error",
                model.loo_error,
                "allowed: 0 ≤ loo_error < 5 (a fraction: the fit's leave-one-out rms error of ln E)",
            ));
        }
        if let Some((lo, hi)) = model.porosity_range {
            if !(lo > 0.0 && lo <= hi && hi < 1.0) {
                return Err(invalid(
                    "as_built.porosity_range",
                    format!("[{lo}, {hi}]"),
                    "allowed: [min, max] with 0 < min ≤ max < 1 (fractions)",
                ));
            }
        }
        if model.model == ModelKind::StrutOffset {
            let d = self.lattice.kind.is_strut_lattice();
            if !d || !model.strut_offset.is_finite() {
                return Err(invalid(
                    "as_built.strut_offset",
                    model.strut_offset,
                    format!(
                        "allowed: a finite offset in mm, on a strut lattice (lattice.kind = \"{}\" has no struts: use constant or power-law)",
                        self.lattice.kind.name()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The JSON of the fit `from` (relative to the scene file), and the
    /// error naming `as_built.from` for what is wrong with it.
    fn fit_json(
        &self,
        from: &std::path::Path,
    ) -> Result<(serde_json::Value, impl Fn(String) -> SceneError), SceneError> {
        let path = self.base_dir.join(from);
        let shown = format!("{:?}", path.display().to_string());
        let bad = move |why: String| {
            invalid(
                "as_built.from",
                shown.clone(),
                format!(
                    "{}; allowed: the JSON written by voxfe fit --json (its \"as_built\" object)",
                    crate::text::escape(&why)
                ),
            )
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
        Ok((v, bad))
    }
}
