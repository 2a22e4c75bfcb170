"""Offline training of the models the analysis ships with (not imported at run time)."""
