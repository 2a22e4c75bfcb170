"""X (formerly Twitter): the X API v2 connector. See docs/connectors/x.md."""
