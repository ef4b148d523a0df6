"""People and offices named on a page: contacts, officials, and the details written next to them.

Pages put a contact's phone, email and role on the same line as the name ('Research team,
020 7946 0000, team@example.org') or on labelled lines under it; both end up on one Contact.
"""

from __future__ import annotations

import re

from trialscout.model import Contact

from .lines import Line, is_sentence
from .sections import Section, content, value_line
from .values import EMAIL, PHONE, parse_role
from .vocab import vocabulary


def is_org(text: str) -> bool:
    """Whether the text names an institution ('... Hospital', '... University')."""
    words = {w.strip(".,()") for w in text.casefold().split()}
    return bool(words & vocabulary().org_words)


def _split_person(text: str) -> tuple[str, str | None]:
    """'Lihua Duan, MD, Some Hospital' -> ('Lihua Duan, MD', 'Some Hospital')."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) < 2:
        return text.strip(), None
    keep = 1
    while keep < len(parts) and parts[keep].casefold().replace(" ", "") in vocabulary().degrees:
        keep += 1
    name, rest = ", ".join(parts[:keep]), ", ".join(parts[keep:])
    return name, (rest or None)


def read_contacts(section: Section) -> list[Contact]:
    """People or offices under a contacts heading, with the role/phone/email lines that follow each."""
    contacts: list[Contact] = []
    lines: list[Line] = value_line(section) + content(section)
    for line in lines:
        if line.blank or line.field:
            continue
        current = contacts[-1] if contacts else None
        if line.hit:  # an attribute of the contact above
            if line.hit.name == "contact_name" and line.hit.value:
                contacts.append(Contact(name=line.hit.value.strip()))
            elif line.hit.name == "official" and line.hit.value:
                name, affiliation = _split_person(line.hit.value)
                role = parse_role(re.split(r"[:\t]", line.text, maxsplit=1)[0])
                contacts.append(Contact(name=name, affiliation=affiliation, role=role))
            elif current is not None and line.hit.value:
                _apply_attribute(current, line.hit.name, line.hit.value)
            continue
        if is_sentence(line.text) or line.text.endswith("?"):
            continue
        rest, email, phone = take_contact_details(line.text)
        if not rest:
            if current is not None:
                current.email, current.phone = current.email or email, current.phone or phone
            continue
        if current is not None and current.name and current.affiliation is None and is_org(rest) \
                and not (current.phone or current.email):
            current.affiliation = rest
            continue
        name, affiliation = _split_person(rest)
        contacts.append(Contact(name=name, affiliation=affiliation, email=email, phone=phone))
    return contacts


def _apply_attribute(contact: Contact, name: str, value: str) -> None:
    if name == "role":
        contact.role = parse_role(value)
    elif name == "phone" and PHONE.search(value):
        contact.phone = value.strip()
    elif name == "phone_ext":
        contact.phone_ext = value.strip()
    elif name == "email" and (m := EMAIL.search(value)):
        contact.email = m.group(0)
    elif name == "affiliation":
        contact.affiliation = value.strip()


def take_contact_details(text: str) -> tuple[str, str | None, str | None]:
    """Split 'Research team, 020 7946 0000, team@example.org' into the name and its details."""
    email = phone = None
    if m := EMAIL.search(text):
        email, text = m.group(0), text[:m.start()] + text[m.end():]
    if (m := PHONE.search(text)) and sum(ch.isdigit() for ch in m.group(0)) >= 7:
        phone, text = m.group(0).strip(), text[:m.start()] + text[m.end():]
    rest = re.sub(r"(?i)\b(phone|tel|telephone|email|e-mail)\b\s*:?", " ", text)
    return " ".join(rest.strip(" ,;:-–|").split()), email, phone
