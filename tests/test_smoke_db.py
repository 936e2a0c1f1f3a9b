from sqlalchemy import select

from subsidence.models import AdminArea
from subsidence.models.enums import AreaLevel


def test_roundtrip(session):
    session.add(AdminArea(code="T", name_zh="测试镇", level=AreaLevel.TOWN))
    session.commit()
    assert session.scalar(select(AdminArea.name_zh)) == "测试镇"
