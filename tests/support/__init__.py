"""Test support: builders, a collecting channel for transcripts, and local protocol peers."""
