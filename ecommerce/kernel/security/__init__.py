"""Security primitives with no domain knowledge: secrets, password hashing, signed tokens."""
