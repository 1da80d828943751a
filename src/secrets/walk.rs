//! The tree walker.
