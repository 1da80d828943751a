//! An OSV record of arbitrary bytes (YAML or JSON: the first byte chooses)
//! through `deps::osv::parse_record`, then matched against the versions it
//! names itself.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use pep440_rs::Version;
use tripline::deps::osv::{self, Bound, EventKind};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let record = match osv::parse_record(rest, pick % 2 == 0) {
        Ok(Some(r)) => r,
        Ok(None) => return,
        Err(e) => {
            assert!(!e.is_empty(), "an error without a message");
            return;
        }
    };
    assert!(!record.id.trim().is_empty());
    let _ = osv::severity_of(&record);
    for a in &record.affected {
        // Every listed version is affected, as written and as parsed.
        for (text, parsed) in &a.versions {
            assert!(osv::is_affected(a, text, parsed.as_ref()), "{text}");
        }
        for events in &a.ranges {
            for e in events {
                let Bound::Version(v) = &e.bound else { continue };
                let inside = osv::in_range(events, v);
                // The first interval, opened at v, contains v unless it
                // closes at or below v (or at a bound that does not parse),
                // when there are no limits.
                if e.kind == EventKind::Introduced
                    && events.iter().all(|e| e.kind != EventKind::Limit)
                    && std::ptr::eq(e, &events[0])
                {
                    let closes_at_v = events[1..].iter().find(|c| {
                        matches!(c.kind, EventKind::Fixed | EventKind::LastAffected)
                    });
                    let empty = match closes_at_v.map(|c| (&c.kind, &c.bound)) {
                        Some((EventKind::Fixed, Bound::Version(f))) => f <= v,
                        Some((EventKind::LastAffected, Bound::Version(l))) => l < v,
                        Some(_) => true,
                        None => false,
                    };
                    assert!(inside || empty, "{v} not in {events:?}");
                }
                // Parsing the text again gives the same version.
                let again = Version::from_str(&v.to_string()).expect("a version prints as one");
                assert_eq!(&again, v);
            }
        }
    }
});
