"""Chinese text helpers, one set for the whole package: language, sentence units, tokens, words, pinyin,
bigrams, table rows.

Every stage that needs to know what a sentence, a token, a word (rare? a name? a place?), its pinyin, its
bigrams, a table row or "Chinese" is asks here, so the rules are the same at index time, at query time and when
checking citations.
May import: the standard library and text libraries (jieba, OpenCC, pypinyin) only — no other ``rag`` stage.
"""
