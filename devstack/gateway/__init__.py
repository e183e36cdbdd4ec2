"""The local Supabase API gateway and the stand-ins it serves (Auth, the Data API, Realtime)."""
