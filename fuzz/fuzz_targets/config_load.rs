//! `tripline.toml` on arbitrary text, then everything that compiles or
//! checks a parsed config: the allowlists (through the engine), the
//! advisory ignores and their dates, the target settings, the rule paths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline::config::Config;
use tripline::deps::audit::{Ignores, MatchSettings};
use tripline::secrets::engine::Engine;
use tripline::secrets::rules::RuleSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config = match Config::parse(text) {
        Ok(c) => c,
        Err(e) => {
            assert!(!e.is_empty(), "a config error without a message");
            return;
        }
    };
    let _ = Engine::new(RuleSet::default(), &config);
    if let Ok(ignores) = Ignores::new(&[], &config.deps.ignore) {
        let _ = ignores.finish();
    }
    let _ = MatchSettings::new(
        config.deps.target_os.as_deref(),
        config.deps.target_arch.as_deref(),
        config.deps.informational_severity,
    );
    assert_eq!(config.rule_paths().len(), config.rules.paths.len());
});
