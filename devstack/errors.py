class DevstackError(Exception):
    """A setup problem with a message meant for a person; printed without a traceback."""
