"""Parley: self-hosted real-time chat on Django and Channels."""

# The one place the version is written: /readyz and the admin show it, and a test keeps
# pyproject.toml's `[project] version` equal to it (docs/operations.md, "Version").
__version__ = "0.1.0"
