"""Chinese text helpers, one set for the whole package: language, sentence units, tokens, table rows.

Every stage that needs to know what a sentence, a token, a table row or "Chinese" is asks here, so the
rules are the same at index time, at query time and when checking citations.
May import: the standard library and text libraries (jieba, OpenCC) only — no other ``rag`` stage.
"""
