"""The package's version (layer 0), importable from any layer without the package itself."""

__all__ = ["__version__"]

__version__ = "0.1.0"
