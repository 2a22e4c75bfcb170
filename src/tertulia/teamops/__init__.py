"""Team operations: the on-call rotation, hand-overs, availability and workload (docs/team-operations.md)."""
