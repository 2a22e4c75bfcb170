"""Live updates: "something changed" events fanned out to every open page over SSE."""
