"""The registry of institutions: sync from Passerelle's organizations, provinces. No Flask;
the caller commits."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from clients.institution_portal.institutions.errors import InvalidProvince, UnknownInstitution
from clients.institution_portal.institutions.models import Institution, InstitutionState
from clients.institution_portal.institutions.provinces import LineProblem, ProvinceLine, normalize

DLI_KIND = "dli"


class OrganizationLike(Protocol):
    """What the sync reads of organizations_api.Organization."""

    id: str
    kind: str
    number: str
    name_fr: str
    name_en: str
    state: str


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    detached: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    changed: list[str] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)


class InstitutionService:
    def __init__(self, session: Session, clock: Callable[[], datetime]):
        self.session = session
        self.clock = clock

    def by_public_id(self, public_id: str) -> Institution | None:
        return self.session.scalar(select(Institution).where(Institution.public_id == public_id))

    def by_number(self, number: str) -> Institution | None:
        return self.session.scalar(select(Institution).where(Institution.number == number))

    def all(self) -> list[Institution]:
        return list(self.session.scalars(select(Institution).order_by(Institution.number)))

    def sync(self, organizations: Iterable[OrganizationLike]) -> SyncResult:
        """Make the registry match the DLIs attached to the portal's client: new ones added
        (no province yet), names, numbers and states updated, those no longer attached
        marked detached. The province is never touched: Passerelle does not know it."""
        result = SyncResult()
        now = self.clock()
        seen: set[str] = set()
        for organization in organizations:
            if organization.kind != DLI_KIND:
                continue
            seen.add(organization.id)
            state = InstitutionState.ACTIVE if organization.state == "active" else InstitutionState.DISABLED
            found = self.by_public_id(organization.id)
            if found is None:
                self._free_number(organization.number, organization.id)
                self.session.add(Institution(public_id=organization.id, number=organization.number,
                                             name_fr=organization.name_fr, name_en=organization.name_en,
                                             state=state, created_at=now, synced_at=now))
                result.added.append(organization.number)
                self.session.flush()
                continue
            values = {"number": organization.number, "name_fr": organization.name_fr,
                      "name_en": organization.name_en, "state": state}
            if any(getattr(found, name) != value for name, value in values.items()):
                if found.number != organization.number:
                    self._free_number(organization.number, organization.id)
                for name, value in values.items():
                    setattr(found, name, value)
                result.updated.append(organization.number)
            found.synced_at = now
            self.session.flush()
        for institution in self.all():
            if institution.public_id not in seen and institution.state != InstitutionState.DETACHED:
                institution.state = InstitutionState.DETACHED
                result.detached.append(institution.number)
        self.session.flush()
        return result

    def _free_number(self, number: str, public_id: str) -> None:
        """A DLI number moved to another organization at Passerelle: the former holder
        (detached, or about to be) keeps its history under a marked number."""
        holder = self.by_number(number)
        if holder is not None and holder.public_id != public_id:
            holder.number = f"{number}~{holder.public_id}"[:64]
            holder.state = InstitutionState.DETACHED
            self.session.flush()

    def ensure(self, *, public_id: str, number: str, name_fr: str, name_en: str) -> Institution:
        """The institution, added if the registry does not have it yet (the demo, before
        Passerelle can be asked)."""
        found = self.by_public_id(public_id)
        if found is None:
            self._free_number(number, public_id)
            found = Institution(public_id=public_id, number=number, name_fr=name_fr, name_en=name_en,
                                state=InstitutionState.ACTIVE, created_at=self.clock())
            self.session.add(found)
            self.session.flush()
        return found

    def set_province(self, number: str, code: str) -> Institution:
        """Raises UnknownInstitution, InvalidProvince."""
        province = normalize(code)
        if province is None:
            raise InvalidProvince(code)
        institution = self.by_number(number)
        if institution is None:
            raise UnknownInstitution(number)
        institution.province = province
        self.session.flush()
        return institution

    def import_provinces(self, lines: Iterable[ProvinceLine], problems: list[LineProblem]) -> ImportResult:
        """Every line's province, or none at all when a line has a problem (the file is
        fixed and imported again). Returns the numbers whose province changed."""
        result = ImportResult(problems=list(problems))
        lines = list(lines)
        found = {line.number: self.by_number(line.number) for line in lines}
        result.problems += [LineProblem(line.line, f"no institution with DLI number {line.number} (sync first)")
                            for line in lines if found[line.number] is None]
        if result.problems:
            result.problems.sort(key=lambda problem: problem.line)
            return result
        for line in lines:
            institution = found[line.number]
            if institution.province != line.province:
                institution.province = line.province
                result.changed.append(line.number)
        self.session.flush()
        return result
