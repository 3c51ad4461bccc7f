"""SafeSphere: threat incident management and tourist safety scoring."""

__version__ = "0.1.0"
