#!/usr/bin/env python3
"""Check the translation catalogs: nothing untranslated or fuzzy, placeholders intact, .mo up to date.

Standard library only, so it runs before (or without) the project's virtualenv:

    python3 .ci/check_translations.py [LOCALE_DIR]

Every `.po` under LOCALE_DIR (default src/tertulia/locale) is read entry by entry.
The compiled `.mo` beside it must hold exactly the same translations, because
Django reads only the `.mo`: a `.po` fixed without recompiling changes nothing
for users (`tertulia manage compilemessages` recompiles).
"""

from __future__ import annotations

import ast
import gettext
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED = [Path("es/LC_MESSAGES/django.po")]
NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
POSITIONAL = re.compile(r"%(?!\()[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        # How gettext stores a message with context: "context\x04message".
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid

    @property
    def label(self) -> str:
        text = self.msgid if len(self.msgid) <= 60 else self.msgid[:57] + "..."
        return f"{self.msgctxt + ' | ' if self.msgctxt else ''}{text!r}"


def _string(token: str, path: Path, number: int) -> str:
    """A PO string literal ("...") with C escapes; Python's literal syntax covers what gettext emits."""
    token = token.strip()
    if not (token.startswith('"') and token.endswith('"')):
        raise SyntaxError(f"{path}:{number}: expected a quoted string, got {token!r}")
    value = ast.literal_eval(token)
    assert isinstance(value, str)
    return value


def parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    field_name: str | None = None
    index = 0

    def finish() -> None:
        nonlocal current, field_name
        if current is not None and (current.msgstr or current.msgid):
            entries.append(current)
        current, field_name = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue  # obsolete entries are ignored by msgfmt too
        if line.startswith("#"):
            if current is not None and field_name is not None and field_name.startswith("msgstr"):
                finish()  # a comment after a msgstr starts the next entry
            if current is None:
                current = Entry(line=number)
            if line.startswith("#,"):
                current.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if current is None or field_name is None:
                raise SyntaxError(f"{path}:{number}: a string continuation outside an entry")
            _append(current, field_name, index, _string(line, path, number))
            continue
        if (
            keyword in {"msgctxt", "msgid"}
            and current is not None
            and field_name
            and field_name.startswith("msgstr")
        ):
            finish()
        if current is None:
            current = Entry(line=number)
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if match:
            field_name, index = "msgstr", int(match.group(1))
        elif keyword in {"msgctxt", "msgid", "msgid_plural", "msgstr"}:
            field_name, index = keyword, 0
        else:
            raise SyntaxError(f"{path}:{number}: unknown keyword {keyword!r}")
        _set(current, field_name, index, _string(rest, path, number))
    finish()
    return entries


def _set(entry: Entry, name: str, index: int, value: str) -> None:
    if name == "msgstr":
        entry.msgstr[index] = value
    else:
        setattr(entry, name, value)


def _append(entry: Entry, name: str, index: int, value: str) -> None:
    if name == "msgstr":
        entry.msgstr[index] = entry.msgstr.get(index, "") + value
    else:
        setattr(entry, name, (getattr(entry, name) or "") + value)


def placeholder_problems(entry: Entry) -> list[str]:
    """A translation may drop a named placeholder, but never invent one (KeyError at render time)."""
    problems = []
    sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural is not None else [])
    known = set().union(*(NAMED.findall(text) for text in sources))
    for index, text in sorted(entry.msgstr.items()):
        unknown = set(NAMED.findall(text)) - known
        if unknown:
            problems.append(f"msgstr[{index}] uses placeholders the original lacks: {sorted(unknown)}")
        if entry.msgid_plural is None and len(POSITIONAL.findall(text)) != len(
            POSITIONAL.findall(entry.msgid)
        ):
            problems.append("the translation has a different number of %s-style placeholders")
    return problems


def check_catalog(po_path: Path) -> tuple[int, list[str]]:
    problems: list[str] = []
    entries = parse_po(po_path)
    header = next((e for e in entries if e.msgid == "" and e.msgctxt is None), None)
    if header is None:
        problems.append(f'{po_path}: no header entry (msgid "")')
    else:
        if "fuzzy" in header.flags:
            problems.append(
                f"{po_path}:{header.line}: the header is marked fuzzy: review it and remove the flag"
            )
        if "charset=UTF-8" not in header.msgstr.get(0, ""):
            problems.append(f"{po_path}:{header.line}: the header must declare charset=UTF-8")
        if "Plural-Forms:" not in header.msgstr.get(0, ""):
            problems.append(f"{po_path}:{header.line}: the header has no Plural-Forms")

    messages = [e for e in entries if e is not header]
    for entry in messages:
        where = f"{po_path}:{entry.line}"
        if "fuzzy" in entry.flags:
            problems.append(f"{where}: fuzzy (review the translation, then remove the flag): {entry.label}")
        if not entry.msgstr or any(not text for text in entry.msgstr.values()):
            problems.append(f"{where}: untranslated: {entry.label}")
            continue
        if entry.msgid_plural is not None and sorted(entry.msgstr) != list(range(len(entry.msgstr))):
            problems.append(f"{where}: plural forms are not numbered 0..n: {entry.label}")
        problems.extend(f"{where}: {problem}: {entry.label}" for problem in placeholder_problems(entry))

    problems.extend(compare_with_mo(po_path, messages))
    return len(messages), problems


def compare_with_mo(po_path: Path, messages: list[Entry]) -> list[str]:
    mo_path = po_path.with_suffix(".mo")
    fix = f"run `tertulia manage compilemessages` and commit {mo_path}"
    if not mo_path.exists():
        return [f"{mo_path}: missing: {fix}"]
    with mo_path.open("rb") as handle:
        catalog: dict[object, str] = getattr(gettext.GNUTranslations(handle), "_catalog", {})
    expected: dict[object, str] = {}
    for entry in messages:
        if "fuzzy" in entry.flags or not entry.msgstr or any(not text for text in entry.msgstr.values()):
            continue  # msgfmt leaves these out
        if entry.msgid_plural is None:
            expected[entry.key] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(entry.key, index)] = text
    compiled = {key: value for key, value in catalog.items() if key != ""}
    stale = [key for key in expected if compiled.get(key) != expected[key]]
    extra = [key for key in compiled if key not in expected]
    if stale or extra:
        sample = (stale or extra)[0]
        return [
            f"{mo_path}: out of date with the .po ({len(stale)} changed or missing, {len(extra)} extra; "
            f"first: {sample!r}): {fix}"
        ]
    return []


def main(argv: list[str]) -> int:
    locale_dir = Path(argv[1]) if len(argv) > 1 else Path("src/tertulia/locale")
    problems = [
        f"{locale_dir / required}: missing" for required in REQUIRED if not (locale_dir / required).exists()
    ]
    catalogs = sorted(locale_dir.glob("*/LC_MESSAGES/*.po"))
    summary = []
    for po_path in catalogs:
        try:
            count, found = check_catalog(po_path)
        except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
            problems.append(f"{po_path}: cannot be read: {exc}")
            continue
        problems.extend(found)
        summary.append(f"{po_path.relative_to(locale_dir)}: {count} messages")
    for problem in problems:
        print(problem)
    if problems:
        print(f"translations: {len(problems)} problem(s)")
        return 1
    print(f"translations: ok ({'; '.join(summary)}; .mo files match)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
