"""Dramatiq actors, one module per job family."""
