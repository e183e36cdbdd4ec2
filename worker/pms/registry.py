"""Which adapter serves which provider.

The inbound processor calls `adapter_for(event.provider).parse_event(event)`; the sync runner
calls `adapter_for(configuration.provider)` for fetches and listings. The default registry's
adapters share the process-wide per-credential rate limiters (ratelimit.LIMITERS).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from worker.errors import ConfigurationError
from worker.pms.base import PmsAdapter
from worker.pms.generic import GenericAdapter
from worker.pms.http import RetryPolicy
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


def build_registry(*, policy: RetryPolicy | None = None, limiters: LimiterRegistry | None = None) -> AdapterRegistry:
    """Every adapter, with one retry policy and limiter registry (tests pass fast, private ones)."""
    return AdapterRegistry([GenericAdapter(policy=policy, limiters=limiters)])


@cache
def default_registry() -> AdapterRegistry:
    return build_registry()


def adapter_for(provider: str) -> PmsAdapter:
    """The adapter of `provider` from the default registry (ConfigurationError if unknown)."""
    return default_registry().adapter_for(provider)
