"""The ``retrieval_at_k`` `evaluate` metric (this file makes the folder ship with the package)."""
