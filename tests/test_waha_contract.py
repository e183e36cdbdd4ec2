"""The repository's WAHA contract (shared/specs/waha-contract.json) against what it stands for:
WAHA's full OpenAPI document, when one is given, and the routes the simulator serves."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from devstack.simulators import waha_contract, waha_spec
from devstack.simulators.waha import WahaSimulator


def _contract() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(waha_contract.CONTRACT.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.skipif(
    not os.environ.get("WAHA_OPENAPI_SPEC"),
    reason="set WAHA_OPENAPI_SPEC to WAHA's full OpenAPI document to check the contract against it",
)
def test_the_contract_is_what_wahas_full_document_says() -> None:
    document = json.loads(Path(os.environ["WAHA_OPENAPI_SPEC"]).read_text(encoding="utf-8"))
    expected = waha_contract.render(waha_contract.extract(document))
    assert waha_contract.CONTRACT.read_text(encoding="utf-8") == expected, (
        "shared/specs/waha-contract.json differs from WAHA's document: regenerate it with "
        "`python -m devstack.simulators.waha_contract $WAHA_OPENAPI_SPEC`"
    )


def test_every_route_the_simulator_serves_is_in_the_contract_in_full() -> None:
    served = {
        (route.method, route.path)
        for route in WahaSimulator(spec=waha_spec.load(waha_contract.CONTRACT))._api_routes()
        if route.method != "HEAD"
    }
    assert served == set(waha_contract.SIMULATED)
    paths = _contract()["paths"]
    assert isinstance(paths, dict)
    for method, path in served:
        operation = paths[path][method.lower()]
        assert "responses" in operation, f"{method} {path} is only a stub in the contract"


def test_the_contract_extracts_only_what_is_used_and_refuses_a_document_without_it() -> None:
    contract = _contract()
    webhooks = contract["webhooks"]
    assert isinstance(webhooks, dict)
    assert tuple(webhooks) == waha_contract.WEBHOOKS
    # An operation the simulator does not serve is kept as a stub: WAHA has it (501, not 404).
    chats = contract["paths"]["/api/{session}/chats"]["get"]  # type: ignore[index]
    assert chats == {"operationId": "ChatsController_getChats", "security": [{"api_key": []}]}
    # A document that lacks a simulated operation cannot make a contract.
    broken = json.loads(waha_contract.CONTRACT.read_text(encoding="utf-8"))
    del broken["paths"]["/api/sendText"]["post"]
    with pytest.raises(ValueError, match="POST /api/sendText"):
        waha_contract.extract(broken)
