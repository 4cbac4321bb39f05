"""Answer: passages → an answer whose every claim is cited, or a refusal that says why.

Question analysis (question.py: what is asked), clause ranking (ranking.py: which sentences answer it, ranked
once per question), the extractive answerer, prompts for a chat model, citation checking, refusal and
answerability, follow-up rewriting, and the pipeline that runs them in order.
May import: ``rag.retrieve``, ``rag.generation``, ``rag.text``, ``rag.schema``, ``rag.errors``, ``prompts``.
"""
