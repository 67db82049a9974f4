"""The pages' run-derived captions and tables are what benchmarks/render_tables.py renders from
the committed results: a result changed without re-rendering fails here (and so in CI)."""
import json
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
import render_tables  # noqa: E402


def test_every_page_is_what_the_script_renders():
    stale = render_tables.stale_pages()
    assert not stale, "stale pages (run python benchmarks/render_tables.py):\n" + "\n".join(stale.values())


def test_every_renderer_has_exactly_one_block():
    assert sorted(render_tables.blocks_used()) == sorted(render_tables.RENDERERS)


def test_a_result_changed_without_rerendering_fails_the_check(tmp_path, capsys):
    results = tmp_path / "results"
    shutil.copytree(render_tables.RESULTS, results, ignore=shutil.ignore_patterns("*.png", "h100-logs"))
    path = results / "flagship_eval_amd-epyc-x2.json"
    data = json.loads(path.read_text())
    data["rows"][-1][4] = 123                                       # epoch 25's Fréchet distance
    path.write_text(json.dumps(data))
    stale = render_tables.stale_pages(results=str(results))
    assert list(stale) == ["docs/evaluation.md"]
    assert "-| 25 | 10 | 0.047 | 0.864 | 186 | 6.63 |" in stale["docs/evaluation.md"]
    assert "+| 25 | 10 | 0.047 | 0.864 | 123 | 6.63 |" in stale["docs/evaluation.md"]
    assert render_tables.main(["--check", "--results", str(results)]) == 1
    assert "docs/evaluation.md differs" in capsys.readouterr().err
    assert render_tables.main(["--check"]) == 0


def test_an_unknown_block_is_an_error():
    with pytest.raises(ValueError, match="unknown generated block 'nope'"):
        render_tables.render_page("<!-- render_tables: nope -->\nx\n<!-- /render_tables: nope -->\n")
