"""Driving adapters: the HTTP API, the admin CLI, and the composition root that wires them."""
