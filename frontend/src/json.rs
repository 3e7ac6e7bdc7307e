//! Reading reports the studio keeps as JSON values rather than `api` types
//! (bias reports, Explore), so that their decoders stay out of the bundle.

use serde_json::Value;

/// A JSON string's text ("" for anything else).
pub fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A JSON array's items (none for anything else).
pub fn items(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

/// A JSON number as the studio writes numbers, or "—".
pub fn number(v: &Value) -> String {
    v.as_f64()
        .map_or_else(|| "—".to_owned(), api::display::number)
}
