"""Local stand-in for the Supabase platform: a PostgreSQL cluster with Supabase's bootstrap,
the project's migrations applied by the real Supabase CLI, and the test runner."""
