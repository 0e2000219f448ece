"""Shared helpers for the six work-queue scripts (no side effects at import time)."""
