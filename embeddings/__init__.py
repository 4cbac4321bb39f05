"""Embedding models: one small interface, a registry of known models, offline builds."""
