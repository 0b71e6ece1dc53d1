"""What the API shows of each object, one module per domain."""
