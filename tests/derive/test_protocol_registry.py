"""Protocols are objects: a new one is one module plus one registry line, and it then shows in
exponents(), staircase(), the JSON and the command line without any other change."""

import json

import pytest
from _toy_protocol import FirstLeap

from escalier.derive import exponents, staircase
from escalier.derive.protocols import PROTOCOLS, FewSteps, Online
from escalier.numerics.cli import main


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(PROTOCOLS, "first_leap", FirstLeap)  # the one registry line


def test_toy_protocol_in_report_and_json(toy):
    # z1 + He3(z2): the online staircase has phases of order 1 then 3 (leap 3); the toy
    # protocol keeps the first phase: order 1, one direction, cost d.
    r = exponents("z1 + He3(z2)", alpha_c=False)
    res = r.protocols["first_leap"]
    assert res.exponent == 1 and len(res.steps) == 1 and res.steps[0].after.dim == 1
    assert r.leap == 3  # the built-in protocols are unchanged
    data = r.to_json()
    assert data["protocols"]["first_leap"]["exponent"] == 1
    assert data["complexity"]["first_leap"] == "d"
    g = staircase("z1 + He3(z2)", "first_leap")
    assert g.number_of_edges() == 1 and g.graph["exponent"] == 1


def test_toy_protocol_on_the_command_line(toy, capsys):
    assert main(["exponents", "z1 + He3(z2)", "--no-alpha-c"]) == 0
    out = capsys.readouterr().out
    assert "first-leap order" in out and "first-leap staircase:" in out
    assert main(["staircase", "z1 + He3(z2)", "--protocol", "first_leap", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [e["leap"] for e in data["edges"]] == [1]


def test_only_requested_protocols_and_their_requirements_run():
    r = exponents("z1*z2", alpha_c=False, protocols=[FewSteps()])
    assert set(r.protocols) == {"online", "giant_step", "few_steps"}
    # z1*z2 = He1 He1: C_1 = 0, C_2 of rank 2; one step with n = d^2 learns both
    assert r.few_step_exponent == 2 and r.giant_step_exponent == 2
    with pytest.raises(AttributeError, match="reuse"):
        _ = r.generative_exponent


def test_protocol_objects_and_errors():
    assert staircase("z1 + z1*z2", Online()).graph["exponent"] == 1
    g = staircase("z1 + z1*z2 + z1*z2*z3", "few_steps", l=1)
    assert g.graph["exponent"] == 1 and [e["leap"] for _, _, e in g.edges(data=True)] == [1, 1, 1]
    with pytest.raises(ValueError, match="takes no batch exponent"):
        staircase("z1", "online", l=2)
    with pytest.raises(ValueError, match="unknown protocol"):
        exponents("z1", protocols=["nope"])
    with pytest.raises(ValueError, match="integer >= 1"):
        FewSteps(l=0)
