"""Django's PostgreSQL backend, with the connection health check only after the connection sat idle."""
