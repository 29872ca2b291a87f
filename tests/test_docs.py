"""Documentation and schema agree: every parameter is documented, every documented parameter
exists, and the generated tables are current."""

import re
from pathlib import Path

import pytest

from sim.cli import main
from sim.parameters import BY_KEY, PARAMETERS, SECTIONS
from sim.validation import docs

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_parameters_md_is_generated_from_the_schema_and_current():
    text = (DOCS / "parameters.md").read_text(encoding="utf-8")
    assert text == docs.parameters_md(), "docs/parameters.md is stale: run `clustersim docs`"


def test_odd_parameter_tables_are_current():
    text = (DOCS / "ODD.md").read_text(encoding="utf-8")
    assert text == docs.refresh_odd(text), "docs/ODD.md tables are stale: run `clustersim docs`"


@pytest.mark.parametrize("name", ["ODD.md", "parameters.md"])
def test_documented_parameters_and_schema_match_both_ways(name):
    text = (DOCS / name).read_text(encoding="utf-8")
    documented = docs.documented_keys(text)
    schema = set(BY_KEY)
    sector_entries = {k for k in documented if k.rpartition(".")[0] in BY_KEY}
    unknown = documented - schema - sector_entries
    assert not unknown, f"{name} documents parameters sim/parameters.py lacks: {sorted(unknown)}"
    missing = schema - documented
    assert not missing, f"{name} lacks parameters sim/parameters.py has: {sorted(missing)}"


def test_key_scan_catches_a_stale_name():
    """The scan that the test above relies on does see keys in prose and tables."""
    text = "uses `agglomeration.elasticity` and `agglomeration.elastic_ity` | `run.seed` |"
    assert docs.documented_keys(text) == {"agglomeration.elasticity", "agglomeration.elastic_ity",
                                          "run.seed"}


def test_odd_covers_every_section_and_the_protocol():
    text = (DOCS / "ODD.md").read_text(encoding="utf-8")
    for heading in ("Purpose and patterns", "Entities, state variables and scales",
                    "Process overview and scheduling", "Design concepts", "Initialisation",
                    "Input data", "Submodels"):
        assert re.search(rf"^## \d\. {re.escape(heading)}", text, re.M), heading
    blocks = {s for m in docs.BLOCK.finditer(text) for s in m.group("sections").split()}
    assert blocks == set(SECTIONS)
    # the state variables listed are the firm table's fields
    from sim.firms import FIELDS
    table = text.split("## 2.")[1].split("## 3.")[0]
    listed = set(re.findall(r"^\| ([a-z_, ]+) \|", table, re.M))
    names = {n.strip() for row in listed for n in row.split(",")}
    assert set(FIELDS) <= names, set(FIELDS) - names
    # the step order described is the code's: every mechanism of ClusterModel.STEPS, in order
    from sim.model import ClusterModel
    order = [m.name for m in ClusterModel.STEPS]
    described = re.findall(r"\(mechanism `(\w+)`", text.split("## 3.")[1].split("## 4.")[0])
    assert described == order


def test_docs_check_command(tmp_path, capsys):
    (tmp_path / "parameters.md").write_text("old\n")
    (tmp_path / "ODD.md").write_text((DOCS / "ODD.md").read_text())
    assert main(["docs", "--docs", str(tmp_path), "--check"]) == 1
    assert "parameters.md" in capsys.readouterr().out
    assert main(["docs", "--docs", str(tmp_path)]) == 0
    assert main(["docs", "--docs", str(tmp_path), "--check"]) == 0
    assert (tmp_path / "parameters.md").read_text() == docs.parameters_md()
    assert len(PARAMETERS) == (tmp_path / "parameters.md").read_text().count("\n| `")
