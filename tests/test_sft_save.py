"""Saving in another dtype: each tensor cast once, tied weights kept as one, empty tensors keep their shapes; the
command line checks its rows once."""
import pytest
import torch

from s1_nb import sft
from s1_nb.sft import _cast_state_dict, toy_s1k


class CountingTo(torch.overrides.TorchFunctionMode):
    def __init__(self): super().__init__(); self.casts = 0
    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func is torch.Tensor.to: self.casts += 1
        return func(*args, **(kwargs or {}))


def test_each_storage_is_cast_once_and_tied_weights_stay_one():
    w = torch.randn(4, 3)
    sd = {"embed": w, "lm_head": w, "bias": torch.randn(3), "steps": torch.tensor([5])}
    with CountingTo() as mode: out = _cast_state_dict(sd, torch.bfloat16)
    assert mode.casts == 2  # embed (= lm_head) and bias; not once per key
    assert out["embed"] is out["lm_head"] and out["embed"].dtype == torch.bfloat16
    assert out["steps"] is sd["steps"]


def test_empty_tensors_keep_their_own_shapes():
    out = _cast_state_dict({"a": torch.empty(0, 3), "b": torch.empty(0, 5)}, torch.float16)
    assert out["a"].shape == (0, 3) and out["b"].shape == (0, 5)


def test_the_command_line_checks_its_rows_once(tmp_path, monkeypatch):
    import json
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in toy_s1k(4, seed=0)) + "\n")
    calls = []
    real = sft.check_rows
    monkeypatch.setattr(sft, "check_rows", lambda rows, traces="auto": calls.append(len(rows)) or real(rows, traces))
    class Stop(Exception): pass
    def stop(*a, **kw): raise Stop
    monkeypatch.setattr(sft, "_load", stop)  # right after the rows are checked and before any training
    with pytest.raises(Stop): sft.sft_cli.__wrapped__(data=str(data), out=str(tmp_path / "o"), method="full")
    assert calls == [4]
