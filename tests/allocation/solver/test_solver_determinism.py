"""The same round gives the same published decision, byte for byte, whatever the order of its lists."""

import copy
import json

from solver_builders import load

from allocation.solver import canonical_json, solve


def test_same_input_twice_gives_identical_canonical_json():
    doc = load("medium-200x40.json")
    assert canonical_json(solve(doc)) == canonical_json(solve(copy.deepcopy(doc)))


def test_order_of_the_input_lists_does_not_matter():
    doc = load("minimums-150x30.json")
    shuffled = copy.deepcopy(doc)
    for key in ("hardware", "lots", "countries", "requests"):
        shuffled[key] = shuffled[key][::-1]
        shuffled[key] = shuffled[key][1::2] + shuffled[key][0::2]
    assert canonical_json(solve(doc)) == canonical_json(solve(shuffled))


def test_canonical_json_drops_solve_seconds_and_sorts_keys():
    out = solve(load("small-30x8.json"))
    text = canonical_json(out)
    assert text.endswith("}\n")
    again = json.loads(text)
    assert "solve_seconds" not in again["stats"] and "solve_seconds" in out["stats"]
    assert text == json.dumps(again, sort_keys=True, indent=1) + "\n"
