"""`tertulia query check` and `tertulia query match`: the query language from a terminal or a pipe."""

from __future__ import annotations

import json
import select
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from tertulia.listening.matcher import BATCH, Matcher
from tertulia.listening.query import ParsedQuery, Post, QueryError, parse
from tertulia.listening.query.render import as_data, outline


def check_query(text: str, as_json: bool) -> int:
    """Print the parse (or the positioned error); the exit code says which."""
    try:
        parsed = parse(text)
    except QueryError as error:
        if as_json:
            click.echo(json.dumps({"valid": False, "error": error.as_dict()}, ensure_ascii=False))
        else:
            line = text.count("\n", 0, error.position) + 1
            column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
            click.echo(f"error at line {line}, column {column}: {error.message}")
            click.echo(error.pointer(text))
        return 1
    if as_json:
        warnings = [{"code": w.code, "position": w.position, "message": w.message} for w in parsed.warnings]
        click.echo(
            json.dumps(
                {"valid": True, "tree": as_data(parsed.root), "warnings": warnings}, ensure_ascii=False
            )
        )
    else:
        click.echo("\n".join(outline(parsed.root)))
        for warning in parsed.warnings:
            click.echo(f"warning at column {warning.position + 1}: {warning.message}")
    return 0


def read_queries(path: str) -> dict[str, ParsedQuery]:
    """`id<TAB>query` per line; blank lines and lines starting with # are skipped."""
    queries: dict[str, ParsedQuery] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        query_id, tab, text = line.partition("\t")
        if not tab or not query_id.strip():
            raise click.ClickException(f"{path}:{number}: expected an id, a tab and a query")
        if query_id in queries:
            raise click.ClickException(f"{path}:{number}: the id {query_id!r} is used twice")
        try:
            queries[query_id] = parse(text)
        except QueryError as error:
            raise click.ClickException(
                f"{path}:{number}: query {query_id!r}, column {error.position + 1}: {error.message}\n"
                + error.pointer(text)
            ) from error
    return queries


_OPTIONAL_TEXT = ("author", "lang", "url", "network", "channel")


def post_from_json(line: str) -> tuple[Any, Post | None, str]:
    """(the id as given, the post, "") or (id or None, None, what is wrong)."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        return None, None, f"not JSON: {exc}"
    if not isinstance(data, dict):
        return None, None, "expected a JSON object"
    post_id = data.get("id")
    if not isinstance(post_id, str | int) or isinstance(post_id, bool):
        return None, None, '"id" must be a string or a number'
    text = data.get("text")
    if not isinstance(text, str):
        return post_id, None, '"text" must be a string'
    fields: dict[str, Any] = {}
    for name in _OPTIONAL_TEXT:
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            return post_id, None, f'"{name}" must be a string'
        fields[name] = value
    followers = data.get("followers")
    if followers is not None and (
        not isinstance(followers, int) or isinstance(followers, bool) or followers < 0
    ):
        return post_id, None, '"followers" must be a whole number, 0 or more'
    return post_id, Post(id=str(post_id), text=text, followers=followers, **fields), ""


def _batches(stream: IO[str]) -> Iterator[list[str]]:
    """Lines in batches: full ones while input keeps coming, whatever is there when it pauses."""
    batch: list[str] = []
    for line in stream:
        if line.strip():
            batch.append(line)
        if len(batch) >= BATCH or (batch and not _more_waiting(stream)):
            yield batch
            batch = []
    if batch:
        yield batch


def _more_waiting(stream: IO[str]) -> bool:
    try:
        ready, _, _ = select.select([stream], [], [], 0)
    except (OSError, ValueError, TypeError):  # not a real file (tests, Windows consoles): keep batching
        return True
    return bool(ready)


def match_stream(queries: dict[str, ParsedQuery], stream: IO[str], out: IO[str]) -> tuple[int, int]:
    """Write one JSON line per input line; returns (posts, bad lines)."""
    matcher = Matcher(queries)
    posts_seen = bad = 0
    for lines in _batches(stream):
        parsed = [post_from_json(line) for line in lines]
        good = [post for _, post, _ in parsed if post is not None]
        found = iter(matcher.match(good))
        for post_id, post, problem in parsed:
            if post is None:
                bad += 1
                out.write(json.dumps({"id": post_id, "error": problem}, ensure_ascii=False) + "\n")
            else:
                posts_seen += 1
                out.write(json.dumps({"id": post_id, "matches": next(found)}, ensure_ascii=False) + "\n")
        out.flush()
    return posts_seen, bad


def run_match(path: str) -> None:
    queries = read_queries(path)
    if not queries:
        raise click.ClickException(f"{path} has no queries")
    _, bad = match_stream(queries, sys.stdin, sys.stdout)
    if bad:
        click.echo(f'tertulia: {bad} input line(s) were not posts; each got an "error" line', err=True)
