"""The portal's registry of institutions on a real database: synced from Passerelle's
organizations (DLIs only, names and states follow, the province never touched), and the
province file an operator imports (every line checked, nothing saved when one is wrong)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from clients.institution_portal.institutions.errors import InvalidProvince, UnknownInstitution
from clients.institution_portal.institutions.provinces import read_province_file
from clients.institution_portal.institutions.services import InstitutionService
from tests.institution_portal_periods_support import Org, drop_portal_schema, portal_engine
from tests.support import FrozenClock


@pytest.fixture
def session(request, tmp_path):
    engine = portal_engine(request, tmp_path)
    with Session(engine) as session:
        yield session
    drop_portal_schema(engine)


@pytest.fixture
def service(session):
    return InstitutionService(session, FrozenClock())


def test_the_sync_adds_dlis_only_without_a_province(service):
    result = service.sync([Org("a1", "O100"), Org("s1", "S1", kind="school")])
    assert result.added == ["O100"]
    institution = service.by_public_id("a1")
    assert (institution.number, institution.name_en, institution.province, institution.state) == \
        ("O100", "Imaginary College", None, "active")
    assert service.by_public_id("s1") is None


def test_the_sync_follows_names_and_states_and_keeps_the_province(service):
    service.sync([Org("a1", "O100")])
    service.set_province("O100", "on")
    result = service.sync([Org("a1", "O100", name_fr="Collège Réel", state="disabled")])
    institution = service.by_public_id("a1")
    assert result.updated == ["O100"] and institution.name_fr == "Collège Réel"
    assert institution.state == "disabled" and institution.province == "ON"


def test_an_organization_no_longer_attached_is_detached_not_deleted(service):
    service.sync([Org("a1", "O100"), Org("b2", "O200")])
    result = service.sync([Org("a1", "O100")])
    assert result.detached == ["O200"] and service.by_public_id("b2").state == "detached"


def test_a_number_moved_to_another_organization_frees_it(service):
    service.sync([Org("a1", "O100")])
    service.sync([Org("b2", "O100")])
    assert service.by_number("O100").public_id == "b2"
    assert service.by_public_id("a1").state == "detached"


def test_a_province_is_a_known_code_of_a_known_institution(service):
    service.sync([Org("a1", "O100")])
    with pytest.raises(InvalidProvince):
        service.set_province("O100", "XX")
    with pytest.raises(UnknownInstitution):
        service.set_province("O999", "ON")


def test_the_province_file_sets_every_line(service):
    service.sync([Org("a1", "O100"), Org("b2", "O200")])
    lines, problems = read_province_file("\ufeffnumber,province\nO100,qc\r\nO200, ON\n\n".encode())
    result = service.import_provinces(lines, problems)
    assert result.problems == [] and result.changed == ["O100", "O200"]
    assert service.by_number("O100").province == "QC" and service.by_number("O200").province == "ON"
    assert service.import_provinces(lines, problems).changed == []


def test_a_province_file_with_one_bad_line_changes_nothing_and_names_every_line(service):
    service.sync([Org("a1", "O100"), Org("b2", "O200")])
    data = "number,province\nO100,ON\nO200,Ontario\nO300,BC\nO100,QC\nO200\n".encode("cp1252")
    result = service.import_provinces(*read_province_file(data))
    assert [problem.line for problem in result.problems] == [3, 4, 5, 6]
    assert "unknown province" in result.problems[0].reason and "sync first" in result.problems[1].reason
    assert "already on line 2" in result.problems[2].reason and "two columns" in result.problems[3].reason
    assert service.by_number("O100").province is None


def test_a_province_file_without_its_header_is_refused():
    lines, problems = read_province_file(b"O100,ON\n")
    assert lines == [] and problems[0].line == 1 and "number,province" in problems[0].reason


def test_a_windows_1252_file_is_read():
    lines, problems = read_province_file("number,province\nÉ100,QC\n".encode("cp1252"))
    assert problems == [] and lines[0].number == "É100"
