"""LakeGuard: command platform for public safety in scenic areas, parks and large events."""

__version__ = "0.1.0"
