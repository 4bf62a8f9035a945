"""The neutral core both sides share: batch formats, model resolution and the sentence-embedder protocol.

``lightning_modules`` (what trains) and ``datamodules`` (what feeds it) import this package; it imports
neither of them, nor ``experiments``.
"""
