"""The pages, one module per domain, on the two base views of ``base``."""
