"""Test doubles that implement the project's real interfaces."""
