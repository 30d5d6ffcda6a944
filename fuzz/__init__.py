"""Schemathesis against the local stack: `make fuzz` (see README, Fuzzing)."""
