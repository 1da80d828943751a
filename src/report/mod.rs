//! Reports: text, JSON and SARIF renderings of a `ScanOutcome`.
