"""Seeded, deterministic community traffic for the sandbox network.

`corpus` holds what people say, `community` who says it, `planner` decides what
happens in each 2-second tick (a pure function), `apply` writes a plan to the
network, `pump` runs due ticks from the worker, `control` is what the demo,
the web pages and the tests call.
"""
