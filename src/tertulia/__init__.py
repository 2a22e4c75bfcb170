"""Tertulia: self-hosted social media operations."""

__version__ = "0.1.0.dev0"
