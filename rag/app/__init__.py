"""App: the front doors and what they keep — settings, the objects a process loads once, the ``yuanwen`` CLI,
knowledge bases, saved conversations and their feedback, and eval scoring.

The only stage that reads the configuration and wires the others together.
May import: every ``rag`` stage, ``embeddings`` and ``ui``.
"""
