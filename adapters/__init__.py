"""Driven adapters: the implementations of the application's ports."""
