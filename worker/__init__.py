"""The worker: turns stored PMS and WAHA events into reservations and guest messages."""
