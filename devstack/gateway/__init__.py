"""The local stand-in for Supabase's API gateway and the services behind it (devstack/gateway/app.py)."""
