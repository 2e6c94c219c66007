"""WMLA-compatible ``emetrics`` module: ``from emetrics import EMetrics`` (see stoke.emetrics)."""

from stoke.emetrics import EMetrics

__all__ = ["EMetrics"]
