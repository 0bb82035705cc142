"""Readers: tables → typed model → Datalog facts, every value with its source."""
