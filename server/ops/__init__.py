"""The op pipeline and one module per practice."""
