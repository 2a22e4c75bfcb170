"""`tertulia query check|match` and `tertulia nlp sentiment|language` as a script would use them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tertulia.cli.main import cli


def run(*args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


def test_check_prints_the_parse():
    code, output = run("query", "check", '"servicio al cliente" NOT empleo')
    assert code == 0
    assert output.splitlines() == ["AND", '├─ phrase "servicio al cliente"', "└─ NOT", "   └─ word empleo"]


def test_check_reads_standard_input_and_points_at_the_error():
    code, output = run("query", "check", stdin="marca\nAND (huelga OR")
    assert code == 1
    assert output.splitlines() == [
        "error at line 2, column 13: OR needs something on both sides.",
        "AND (huelga OR",
        "            ^^",
    ]


def test_check_json():
    code, output = run("query", "check", "--json", "a NEAR/3f b")
    assert code == 0
    assert json.loads(output)["tree"]["type"] == "near"
    code, output = run("query", "check", "--json", "(a")
    assert code == 1
    assert json.loads(output)["error"]["code"] == "unclosed_paren"


def test_match_writes_one_line_per_post(tmp_path: Path):
    queries = tmp_path / "queries.tsv"
    queries.write_text(
        "# brand and competitors\nbrand\tiberia NOT empleo\n\ncomp\t(#vueling OR @vueling) followers:>10\n"
    )
    posts = [
        {"id": 1, "text": "Huelga en IBERIA"},
        {"id": "b", "text": "Oferta de empleo en Iberia"},
        {"id": 3, "text": "#Vueling y Iberia", "followers": 50, "lang": "es", "url": "https://x.example"},
        {"id": 4, "text": "#Vueling", "followers": 5},
    ]
    stdin = "\n".join(json.dumps(post) for post in posts) + "\nnot json\n[1]\n" + json.dumps({"id": 5}) + "\n"
    code, output = run("query", "match", str(queries), stdin=stdin)
    assert code == 0
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines[:4] == [
        {"id": 1, "matches": ["brand"]},
        {"id": "b", "matches": []},
        {"id": 3, "matches": ["brand", "comp"]},
        {"id": 4, "matches": []},
    ]
    assert [line.get("error", "")[:8] for line in lines[4:]] == ["not JSON", "expected", '"text" m']
    assert lines[6]["id"] == 5


def test_match_refuses_a_bad_queries_file(tmp_path: Path):
    queries = tmp_path / "queries.tsv"
    queries.write_text("ok\tvino\nbad\t(vino OR\n")
    code, output = run("query", "match", str(queries))
    assert code == 1
    assert "queries.tsv:2: query 'bad', column 7" in output
    queries.write_text("no tab here\n")
    code, output = run("query", "match", str(queries))
    assert code == 1 and "expected an id, a tab and a query" in output


def test_nlp_commands_answer_every_line():
    texts = "\n".join(
        [
            "Me encanta este vino, gracias!",
            "Qué desastre de servicio, nunca más",
            "",
            "Thank you so much, this is great",
        ]
    )
    code, output = run("nlp", "sentiment", stdin=texts)
    assert code == 0
    assert output.splitlines() == ["positive", "negative", "neutral", "positive"]
    code, output = run("nlp", "language", stdin=texts)
    assert code == 0
    assert output.splitlines() == ["es", "es", "und", "en"]
