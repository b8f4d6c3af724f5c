"""Casework rules as pure functions: no database, no network, only values in and values out."""
