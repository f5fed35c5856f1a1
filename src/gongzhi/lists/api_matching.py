"""Matching proposals in the JSON API at /api/v1/matching/ (filled in by its owner)."""

from ninja import Router

router = Router(tags=["matching"])
