"""Ganeti jobs as Fleet rows: who asked, why, and how the job went. No I/O: the worker drives them."""
