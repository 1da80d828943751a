//! The rule-file loader on arbitrary text, as it loads a `--rules` file:
//! parse, compile, run the examples through the engine. Then an engine
//! built from what loaded must find each kept rule's examples, as
//! `tripline rules test` promised it would.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline::config::Config;
use tripline::secrets::engine::Engine;
use tripline::secrets::rules::RuleSet;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (set, problems) = RuleSet::load_user_text("fuzz.toml", text);
    for p in &problems {
        assert!(!p.message.is_empty(), "a problem without a message: {p:?}");
    }
    let mut ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(before, ids.len(), "two kept rules share an id");
    for r in &set.rules {
        let re = r.regex.get().expect("a kept user rule's regex compiled");
        assert!(
            r.secret_group < re.captures_len(),
            "secret_group out of range"
        );
        assert!(!r.keywords.is_empty());
        for k in &r.keywords {
            assert!(!k.is_empty() && k.is_ascii() && *k == k.to_ascii_lowercase());
        }
        assert!(!r.examples.is_empty());
    }
    if set.rules.is_empty() {
        return;
    }
    let rules = set.rules.clone();
    let engine = match Engine::new(set, &Config::default()) {
        Ok(e) => e,
        Err(_) => return,
    };
    for r in &rules {
        for ex in &r.examples {
            let found = engine.scan("fuzz.txt", ex.as_bytes());
            // A path filter or an allow glob may legitimately drop a match
            // that the path-less example check kept.
            if r.path.is_none() && r.allow.paths.is_none() {
                assert!(
                    !found.is_empty(),
                    "rule {} passed its example check but a scan of example {ex:?} finds nothing",
                    r.id
                );
            }
        }
        for ex in &r.negative_examples {
            let _ = engine.scan("fuzz.txt", ex.as_bytes());
        }
    }
    let _ = engine.scan("fuzz.txt", data);
});
