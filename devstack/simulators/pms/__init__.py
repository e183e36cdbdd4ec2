"""PMS simulators, one per vendor, following each vendor's published API: pagination, rate
limits (429 + Retry-After), 401 for revoked credentials, 5xx and slow answers on demand.

    async with GenericPmsSimulator(api_keys=["k"]) as pms:
        pms.put(Booking(...))
        ...  # point a PMS configuration's api_base_url at pms.base_url
"""
