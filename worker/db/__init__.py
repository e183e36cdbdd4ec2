"""Database access: a connection pool and SQL kept in `worker/sql/*.sql` as named queries."""
