"""rm_pipelines: the Rent Manager integration for EstateCore."""

__version__ = "0.1.0"
