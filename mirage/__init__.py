"""Mirage: workspaces for AI agents, served as a first-class system service."""

__version__ = "0.1.0"
