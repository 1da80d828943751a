//! Secret detection: rules (`rules`), the matcher that runs them over bytes
//! (`engine`), and the git sources only this scanner reads (`git`: the
//! staged index and history).
//!
//! A scanner, not a command: it takes bytes from `source` (or reads git
//! itself) and hands back `finding::Finding`s. It never formats output,
//! never knows the command line and never imports `deps`, `report`, `scan`,
//! `cli` or `commands`; `tripline rules list|test` live in
//! `commands::rules`, which calls [`rules::RuleSet`] and
//! [`engine::check_examples`].

pub mod decide;
pub mod engine;
pub mod entropy;
pub mod git;
pub mod keywords;
pub mod rules;
pub mod validators;
