"""Explore: the documented datasets, the builder and the read-only SQL box."""
