//! Fault injection for crash tests: `BORDERLESS_FAULT=<point>` makes the process abort (as `kill -9`
//! would, with no cleanup) when it reaches that named point, such as `top_up.after_capture` (between the
//! card capture and the wallet credit) or `checkout.after_authorize`. Unset, a point costs one comparison.

use std::sync::OnceLock;

static FAULT: OnceLock<Option<String>> = OnceLock::new();

/// Aborts the process if `BORDERLESS_FAULT` names `point`.
pub fn hit(point: &str) {
    let armed = FAULT.get_or_init(|| std::env::var("BORDERLESS_FAULT").ok().filter(|v| !v.is_empty()));
    if armed.as_deref() == Some(point) {
        eprintln!("BORDERLESS_FAULT: aborting at `{point}`");
        std::process::abort();
    }
}
