"""Background work: the Huey consumer and the ticker for sub-minute periodic jobs."""
