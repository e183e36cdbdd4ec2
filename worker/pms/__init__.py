"""PMS adapters: one module per vendor behind the interface in `base`."""
