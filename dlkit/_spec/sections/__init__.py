"""Pass 1, one module per spec section: its keys, their types and defaults."""
