"""Evaluation metrics in the ``mmregnet`` scope."""
from .top_box import TopBoxAccuracy

__all__ = ['TopBoxAccuracy']
