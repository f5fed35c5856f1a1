"""Models of this app (filled in by its owner)."""
