"""Imports every channel module so each registers its factory with the runner."""
