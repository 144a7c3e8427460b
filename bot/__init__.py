"""Tisserand: a bot that keeps networks of local actors alive in their chat."""

__version__ = "0.1.0"
