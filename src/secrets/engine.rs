//! The secrets engine: one keyword pass, then the candidate rules' regexes.
