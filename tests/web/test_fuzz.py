"""Schema-driven fuzzing of the whole API (schemathesis): no input may cause a server error (5xx).

Every operation of the OpenAPI document gets a bounded number of generated requests as each role (office,
department, town, enterprise, monitor, public): no 5xx, and every refusal is the API's JSON error
(``{error, message}``) with a 4xx status.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is in the `test` extra")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.web.conftest import auth  # noqa: E402

EXAMPLES = 5
SKIP = {("DELETE", "/api/auth/token/{token_id}")}  # would revoke the token the fuzzer itself uses


@pytest.mark.parametrize("role", ["office", "department", "town", "enterprise_a", "monitor", "public"])
def test_no_server_errors(app, world, role, engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("fuzzing runs once, on SQLite (the code paths are the same)")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = auth(world, role)
    failures: list[str] = []
    count = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) in SKIP:
            continue

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(op.as_strategy())
        def run(case):
            nonlocal count
            count += 1
            resp = case.call(headers=headers)
            if resp.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} -> {resp.status_code}: {resp.text[:200]}"
                )
            elif resp.status_code >= 400 and "json" in resp.headers.get("content-type", ""):
                body = resp.json()
                if not (isinstance(body, dict) and body.get("error") and body.get("message")):
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {resp.status_code} without "
                        f"{{error, message}}: {resp.text[:200]}"
                    )

        run()
    assert count > 100
    assert not failures, "\n".join(failures[:20])
