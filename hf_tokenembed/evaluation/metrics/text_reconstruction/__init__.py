"""The `text_reconstruction` metric (an `evaluate` module)."""
