"""API tokens: many per user, each named, scoped (read, or read and write), expiring, and stored hashed.

``keys`` owns the key format and its hash, ``lifetime`` the operator's limits on expiry, ``issue`` makes and
revokes tokens, ``verify`` turns a presented key into its token or says why it is refused. The pages, the
API's authentication class and the CLI build on these; this package knows none of them.
"""
