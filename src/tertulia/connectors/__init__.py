"""The connector layer: one typed interface every network implements (see base.py)."""
