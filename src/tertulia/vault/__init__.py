"""The credential vault: network secrets encrypted at rest, opened only inside a connector call."""
