//! The results row of one sweep case: its index, its varied keys, its
//! status and every field of `voxfe run --json`.

use serde_json::{Map, Value};

use super::Case;

/// One row of results: the case index, its varied keys, `status` ("ok" or
/// "failed"), `error` (the reason, for failed cases) and every field of
/// `voxfe run --json`.
pub type Row = Map<String, Value>;

/// The outcome of one case as a results row.
pub fn case_row(case: &Case, result: Result<Row, String>) -> Row {
    let mut row = Row::new();
    row.insert("case".into(), case.index.into());
    for (k, v) in &case.settings {
        row.insert(k.clone(), parse_value(v));
    }
    match result {
        Ok(fields) => {
            let converged = fields
                .get("converged")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            row.insert(
                "status".into(),
                if converged { "ok" } else { "failed" }.into(),
            );
            let error = if converged {
                Value::Null
            } else {
                let res = fields
                    .get("relative_residual")
                    .and_then(Value::as_f64)
                    .unwrap_or(f64::NAN);
                format!("did not converge: relative residual {res:.3e}").into()
            };
            row.insert("error".into(), error);
            for (k, v) in fields {
                row.entry(k).or_insert(v);
            }
        }
        Err(e) => {
            row.insert("status".into(), "failed".into());
            row.insert("error".into(), e.into());
        }
    }
    row
}

/// A `--set` value as JSON: a number or boolean when it reads as one.
fn parse_value(v: &str) -> Value {
    if let Ok(x) = v.parse::<f64>() {
        serde_json::Number::from_f64(x).map_or_else(|| v.into(), Value::Number)
    } else if let Ok(b) = v.parse::<bool>() {
        b.into()
    } else {
        v.into()
    }
}
