"""Mail: queued in the database by the action that causes it, sent by the worker over SMTP with retries.

`mail` is the API: ``send`` (a template shipped here, to some addresses), ``send_to_admins``, and
``tell_admins`` (one line for the admins' next digest, so that 10,000 refused requests make one mail).
`render` (templates are files, values are never compiled), `models` (the outbox and the archive are one
table; the admins' notices), `outbox` (claiming due mails, recording outcomes, retries, pruning: database
only), `smtp` (the only code that speaks SMTP), `digest` (notices to digests), `courier` (one sending pass,
which the worker runs).
"""
