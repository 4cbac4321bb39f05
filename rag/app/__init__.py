"""App: the front doors and what they keep — settings, the objects a process loads once, the ``yuanwen`` CLI,
knowledge bases, saved conversations and their feedback, and eval scoring.

The only stage that reads the configuration (the environment and ``yuanwen.toml``: rag/app/config.py) and wires
the others together; the settings are handed down (the cache root is set once, in rag.cache).
May import: every ``rag`` stage, ``embeddings`` and ``ui``.
"""
