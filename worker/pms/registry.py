"""Which adapter serves which provider.

The inbound processor calls `adapter_for(event.provider).parse_event(event)`; the sync runner
calls `adapter_for(configuration.provider)` for fetches and listings. The default registry's
adapters share the process-wide per-credential rate limiters (ratelimit.LIMITERS).
"""

from __future__ import annotations

from collections.abc import Iterable

from worker.errors import ConfigurationError
from worker.pms.apaleo import ApaleoAdapter
from worker.pms.base import PmsAdapter
from worker.pms.cloudbeds import CloudbedsAdapter
from worker.pms.generic import GenericAdapter
from worker.pms.guesty import GuestyAdapter
from worker.pms.http import RetryPolicy
from worker.pms.mews import MewsAdapter
from worker.pms.oauth import TokenCache
from worker.pms.ratelimit import LimiterRegistry


class UnknownProvider(ConfigurationError, KeyError):
    """No adapter for the provider (also a KeyError, for callers that look it up like a dict)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown provider"


class AdapterRegistry:
    def __init__(self, adapters: Iterable[PmsAdapter]) -> None:
        self._adapters = {a.provider: a for a in adapters}

    def adapter_for(self, provider: str) -> PmsAdapter:
        try:
            return self._adapters[provider]
        except KeyError:
            raise UnknownProvider(f"no PMS adapter for provider {provider!r}") from None

    @property
    def providers(self) -> list[str]:
        return sorted(self._adapters)


def build_registry(
    *, policy: RetryPolicy | None = None, limiters: LimiterRegistry | None = None, tokens: TokenCache | None = None
) -> AdapterRegistry:
    """Every adapter, sharing one retry policy, limiter registry and token cache (the defaults are
    the process-wide ones; tests pass fast retries and private registries)."""
    return AdapterRegistry(
        [
            GenericAdapter(policy=policy, limiters=limiters),
            ApaleoAdapter(policy=policy, limiters=limiters, tokens=tokens),
            MewsAdapter(policy=policy, limiters=limiters),
            CloudbedsAdapter(policy=policy, limiters=limiters),
            GuestyAdapter(policy=policy, limiters=limiters, tokens=tokens),
        ]
    )


_default: AdapterRegistry | None = None


def default_registry() -> AdapterRegistry:
    """The process-wide registry (built on first use with the default retry policy)."""
    global _default
    if _default is None:
        _default = build_registry()
    return _default


def configure_defaults(policy: RetryPolicy) -> AdapterRegistry:
    """Rebuilds the process-wide registry with `policy` (e.g. the worker's PMS timeout), keeping
    the shared rate limiters and token cache. Call it once at start-up."""
    global _default
    _default = build_registry(policy=policy)
    return _default


def adapter_for(provider: str) -> PmsAdapter:
    """The adapter of `provider` from the default registry (ConfigurationError if unknown)."""
    return default_registry().adapter_for(provider)
