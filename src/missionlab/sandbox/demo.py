"""Deterministic demo history. Filled in below."""
