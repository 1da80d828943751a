//! Secret-detection rules: the TOML format, strict loading, the built-in catalog.
