"""Who may do what: the ownership tag grammar, and later the one authorization policy and the audit log."""
