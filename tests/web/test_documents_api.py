"""The documents the office hands out, downloaded from the API: 不予受理告知书, 督办通知, 整改验收意见书 (PDF and DOCX,
rendered from the same data the ledger and the gate persist; scoped like the records they print)."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient
from sqlalchemy import select

from subsidence.access import accounts
from subsidence.access.models import User
from subsidence.core.models import Mine
from subsidence.db.session import make_sessionmaker
from subsidence.ledger.models import AcceptanceRecord, Escalation
from subsidence.vocabulary import Role
from tests.conftest import DEMO_TODAY


def _office_token(engine) -> str:
    with make_sessionmaker(engine)() as s:
        s.info["actor"] = "test"
        user = s.scalar(select(User).where(User.role == Role.OFFICE).order_by(User.id))
        if user is None:
            user = User(username="office-doc", role=Role.OFFICE, password_hash=None, active=True)
            s.add(user)
            s.flush()
        token, _ = accounts.issue_token(s, user, "documents")
        s.commit()
        return token


def _is_pdf(r) -> bool:
    return r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content[:5] == b"%PDF-"


def test_refusal_supervision_and_acceptance_documents(demo_engine, tmp_path):
    from subsidence.api import create_app
    from subsidence.settings import Settings

    app = create_app(
        Settings(data_dir=tmp_path / "data", database_url=demo_engine.url.render_as_string(hide_password=False)),
        demo_engine,
        today=DEMO_TODAY,
    )
    headers = {"Authorization": f"Bearer {_office_token(demo_engine)}"}
    with make_sessionmaker(demo_engine)() as s:
        licences = list(s.scalars(select(Mine.licence_no).order_by(Mine.licence_no)))
        esc_id = s.scalar(select(Escalation.id).order_by(Escalation.id))
        acc_id = s.scalar(select(AcceptanceRecord.id).order_by(AcceptanceRecord.id))
    assert esc_id is not None and acc_id is not None, "the demo county has escalations and acceptances"
    with TestClient(app, raise_server_exceptions=False) as c:
        refused = None
        for lic in licences:
            g = c.get("/api/gate", headers=headers, params={"mine": lic, "application": "extension"}).json()
            if g.get("outcome") == "refused":
                refused = g["query_id"]
                break
        assert refused is not None, "some demo mine is refused"
        assert c.post(f"/api/gate/{refused}/refusal", headers=headers, json={}).status_code == 201
        for url in (
            f"/api/gate/{refused}/refusal/document",
            f"/api/escalations/{esc_id}/document",
            f"/api/acceptances/{acc_id}/document",
        ):
            assert _is_pdf(c.get(url, headers=headers)), url
            r = c.get(url, headers=headers, params={"format": "docx"})
            assert r.status_code == 200 and b"w:document" in zipfile.ZipFile(io.BytesIO(r.content)).read(
                "word/document.xml"
            ), url
            assert c.get(url).status_code in (401, 403)  # not without signing in
        assert c.get("/api/escalations/999999/document", headers=headers).status_code == 404
