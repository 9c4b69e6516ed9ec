"""The package's version, written here only (pyproject.toml reads it through hatch)."""

__version__ = "0.1.0"
