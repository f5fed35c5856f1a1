"""Open311 GeoReport v2: the public face of appeals for existing 311 clients and apps."""
