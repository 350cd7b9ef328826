"""Numbered schema migrations of the users module (applied by ``ecommerce migrate``)."""
