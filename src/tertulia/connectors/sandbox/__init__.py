"""The sandbox network: a simulated social network for the demo, tests and load benchmarks."""
