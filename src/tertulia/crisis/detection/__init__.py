"""Surge detection (issue 8): per-minute counts of what each watch follows (counting), the learned
daily and weekly rhythm (baseline), the statistical test (surge), what a surge is about (explain,
terms), the once-a-minute pass (run) and the sensitivity setting (settings). docs/crisis-detection.md."""
