"""Who may do what: the ownership tag grammar, the one authorization policy, and Fleet's named permissions."""
