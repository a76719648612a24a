"""Clients of the AI upstreams, one module per upstream: wire format only, no tables."""
