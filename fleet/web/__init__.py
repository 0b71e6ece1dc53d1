"""The web pages: server-rendered lists and details over the read model, with htmx for partial updates."""
