"""Adaptive Cards as pure functions from plain data; no I/O, no botbuilder."""
