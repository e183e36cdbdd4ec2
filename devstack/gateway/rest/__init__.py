"""A stand-in for Supabase's Data API (PostgREST) for the local gateway's /rest/v1.

Modules: `query` parses PostgREST's query-string syntax, `headers` its request headers,
`tokens` verifies JWTs, `catalog` reads the schema, `sqlbuild` writes the SQL, `errors` shapes
PostgREST's errors, `handler` runs each request in one transaction, `app` builds the application.
"""

from devstack.gateway.rest.app import api_config, create_app, from_gateway

__all__ = ["api_config", "create_app", "from_gateway"]
