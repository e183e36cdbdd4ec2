"""Inbound events: from stored webhooks to reservations, delivery states and opt-outs."""
