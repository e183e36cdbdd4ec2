"""`make demo`: the whole system on this machine, with a PMS and WhatsApp simulated, playing a
hotel's day and narrating what happens."""
