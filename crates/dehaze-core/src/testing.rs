//! For the test suites of this workspace: what a test does when what it checks against is not
//! on this machine (the shared reference data, a browser).
//!
//! By default it says so and passes, so that the suite runs anywhere; with
//! `DEHAZE_REQUIRE_ALL=1` (set by `.ci/run`) it fails, so that a green CI means every check ran.

/// The environment variable that turns a skipped check into a failure.
pub const REQUIRE_ALL: &str = "DEHAZE_REQUIRE_ALL";

/// Reports that a test cannot run because `what` is missing: panics (fails the test) when
/// [`REQUIRE_ALL`] is `1`, else prints a note. The caller returns after it.
pub fn missing(what: &str) {
    if std::env::var(REQUIRE_ALL).is_ok_and(|v| v == "1") {
        panic!("{what} is missing, and {REQUIRE_ALL}=1 requires every check to run");
    }
    eprintln!("note: skipping: {what} is missing (set {REQUIRE_ALL}=1 to make this a failure)");
}
