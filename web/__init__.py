"""The thin HTTP API: one flask-smorest blueprint per API area."""
