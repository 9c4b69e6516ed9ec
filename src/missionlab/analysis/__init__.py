"""The analysis layer: questions answered about runs (explain, diagnose, compare, find,
roll-ups, capsules), from the frames below it."""
