"""Engines: thin drivers that move bytes for the sans-I/O core."""
