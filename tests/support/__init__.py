"""Helpers the tests share (not collected by pytest)."""
