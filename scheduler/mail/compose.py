"""One builder for every email: greeting, body blocks, footer.

A feature says what to say as blocks — ``Para(text)``, ``Action(label, url)`` (a button in
HTML, "label: url" in plain text), ``Bullets(lines)`` — and ``compose`` writes both bodies
(the HTML escaped), the greeting, and the footer: why the person gets this kind of email and
the link that stops it (the account mails, which nobody can stop, have none). Pure: dates in
the blocks come from ``scheduler.mail.dates``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from scheduler.mail.kinds import KIND_LABELS, MailKind, is_kind
from scheduler.mail.message import Mail
from scheduler.models import Person


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Action:
    label: str
    url: str


@dataclass(frozen=True)
class Bullets:
    lines: Sequence[str]


Block = Para | Action | Bullets

# A link that looks like a button in every mail client (inline styles only).
_BUTTON = (
    "display:inline-block;padding:8px 16px;border-radius:4px;background:#1f4e8c;"
    "color:#ffffff;text-decoration:none;font-weight:bold"
)


def _text(block: Block) -> str:
    if isinstance(block, Para):
        return block.text
    if isinstance(block, Action):
        return f"{block.label}: {block.url}"
    return "\n".join(f"- {line}" for line in block.lines)


def _html(block: Block) -> Markup:
    if isinstance(block, Para):
        return Markup("<p>{}</p>").format(block.text)
    if isinstance(block, Action):
        return Markup('<p><a href="{}" style="{}">{}</a></p>').format(
            block.url, _BUTTON, block.label
        )
    items = Markup("").join(Markup("<li>{}</li>").format(line) for line in block.lines)
    return Markup("<ul>{}</ul>").format(items)


def greeting(name: str) -> str:
    return f"Hello {name}," if name else "Hello,"


def footer(kind: MailKind | str, unsubscribe_url: str) -> tuple[str, ...]:
    """The footer's lines: why the person gets this, and (with a link) how to stop it."""
    label, why = KIND_LABELS[MailKind(kind)] if is_kind(kind) else (str(kind), "")
    lines = [f"Why you get this: {why}" if why else "You get this email from Cadence."]
    if unsubscribe_url:
        lines.append(f"Stop these emails ({label}): {unsubscribe_url}")
    return tuple(lines)


def with_footer(
    text: str, html: str | Markup, kind: MailKind | str, unsubscribe_url: str
) -> tuple[str, str]:
    """Both bodies with the footer: a message whose body is not made of blocks (the digest's
    table) ends the same way as every other."""
    why, *stop = footer(kind, unsubscribe_url)
    ended = text.rstrip("\n") + "\n\n-- \n" + why + "".join(f"\n{line}" for line in stop) + "\n"
    stop_html = (
        Markup('<br><a href="{}">Stop these emails</a>').format(unsubscribe_url)
        if unsubscribe_url
        else Markup("")
    )
    small = Markup('<hr><p style="color:#555;font-size:small">{}{}</p>').format(why, stop_html)
    return ended, str(Markup(html) + small)


def compose(
    *,
    org_id: str,
    key: str,
    kind: MailKind | str,
    person: Person | tuple[str, str, str],
    subject: str,
    blocks: Sequence[Block],
    unsubscribe_url: str,
    secret: bool = False,
) -> Mail:
    """The ``Mail`` of ``blocks`` to ``person`` (a ``Person``, or its (email, name, id));
    ``secret`` when a block holds a sign-in link. The recipient is named on the ``Mail``
    (for ``send_mail``'s opt-out check) only when ``kind`` is one they can stop."""
    email, name, person_id = (
        (person.email, person.name, person.id) if isinstance(person, Person) else person
    )
    hello = greeting(name)
    text, html = with_footer(
        "\n\n".join([hello, *(_text(block) for block in blocks)]),
        Markup("").join([Markup("<p>{}</p>").format(hello), *(_html(b) for b in blocks)]),
        kind,
        unsubscribe_url,
    )
    return Mail(
        org_id=org_id,
        key=key,
        kind=str(kind),
        to=email,
        subject=subject,
        text=text,
        html=html,
        secret=secret,
        person_id=person_id if is_kind(kind) else None,
        unsubscribe_url=unsubscribe_url,
    )


__all__ = ["Action", "Block", "Bullets", "Para", "compose", "footer", "greeting", "with_footer"]
