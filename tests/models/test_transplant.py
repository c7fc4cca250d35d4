from __future__ import annotations

import torch

from models.bundles.checkpoint import generator_from_checkpoint
from models.networks import Generator
from models.transplant import main
from tests.helpers import assert_user_error

G_KWARGS = dict(n_features=25, noise_dim=8, resolution=16, channels={4: 16, 8: 8, 16: 8},
                w_dim=16, mapping_layers=1)


def checkpoint(path, seed: int, **kwargs) -> str:
    """A train.py-shaped checkpoint of a tiny generator with weights from ``seed``."""
    torch.manual_seed(seed)
    g = Generator(**{**G_KWARGS, **kwargs})
    torch.save({"G": g.state_dict(), "G_ema": g.state_dict(), "G_kwargs": {**G_KWARGS, **kwargs},
                "config": {"cfg": "tiny"}}, path)
    return str(path)


def test_the_parts_taken_come_from_the_source_and_the_rest_stays(tmp_path, capsys):
    kept, source = checkpoint(tmp_path / "a.pt", 1), checkpoint(tmp_path / "b.pt", 2)
    out = tmp_path / "put" / "together.pt"
    assert main([kept, "--from", source, "--take", "mapping.", "--take",
                 "synthesis.blocks.1.torgb.", "--out", str(out)]) == 0
    assert "with mapping., synthesis.blocks.1.torgb. from" in capsys.readouterr().out
    a, b, result = (torch.load(p, weights_only=True) for p in (kept, source, out))
    taken = [k for k in a["G_ema"] if k.startswith(("mapping.", "synthesis.blocks.1.torgb."))]
    assert taken and len(taken) < len(a["G_ema"])
    for key in a["G_ema"]:
        want = b if key in taken else a
        for net in ("G_ema", "G"):
            assert torch.equal(result[net][key], want[net][key]), (net, key)
    assert result["config"]["transplanted"]["take"] == ["mapping.", "synthesis.blocks.1.torgb."]
    generator_from_checkpoint(result)  # loads as any snapshot does


def test_a_prefix_that_names_nothing_or_generators_that_differ_are_one_sentence(
        tmp_path, capsys):
    kept, source = checkpoint(tmp_path / "a.pt", 1), checkpoint(tmp_path / "b.pt", 2)
    wider = checkpoint(tmp_path / "c.pt", 3, w_dim=32)
    out = tmp_path / "out.pt"
    code = main([kept, "--from", source, "--take", "synthesis.blocks.9.", "--out", str(out)])
    assert_user_error(code, capsys.readouterr().err, "synthesis.blocks.9. names no weight")
    code = main([kept, "--from", wider, "--take", "mapping.", "--out", str(out)])
    assert_user_error(code, capsys.readouterr().err, "built differently")
    assert not out.exists()
