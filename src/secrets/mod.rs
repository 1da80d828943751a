//! Secret detection: rules (`rules`), the matcher that runs them over bytes
//! (`engine`), and the sources of bytes (`walk` for the working tree).

pub mod engine;
pub mod rules;
pub mod walk;
