"""PMS sync jobs: the runner the worker loop calls, and its database store."""
