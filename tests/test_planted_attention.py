"""The suite catches attention with its mask polarity inverted in a user's torch adapter
(nn.MultiheadAttention blocks where its boolean mask is True, SDPA and the oracle attend
there: passing the canonical mask straight through is the classic mistake), and passes the
same layer when the mask is inverted as it must be. Also a hand-written scaled dot-product
attention that forgets the default scale 1/sqrt(E) (it scales only when a scale is given)
is caught on the causal variant, whose examples take the default, and passes once the
default is applied."""

import textwrap

import pytest

from tests._runs import records, run_conformance

pytest.importorskip("torch")

ADAPTERS = textwrap.dedent('''
    import torch
    from adapters.base import implements
    from adapters.torch import TorchAdapter


    def mha(query, key, value, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o, attn_mask, heads):
        e = w_q.shape[0]
        layer = torch.nn.MultiheadAttention(e, heads, kdim=key.shape[-1],
                                            vdim=value.shape[-1], batch_first=True,
                                            dtype=query.dtype).train()
        params = {"in_proj_bias": torch.cat([b_q, b_k, b_v]), "out_proj.weight": w_o,
                  "out_proj.bias": b_o}
        if layer._qkv_same_embed_dim:
            params["in_proj_weight"] = torch.cat([w_q, w_k, w_v])
        else:
            params.update(q_proj_weight=w_q, k_proj_weight=w_k, v_proj_weight=w_v)
        if attn_mask is not None:
            attn_mask = attn_mask.repeat_interleave(heads, dim=0)
        return torch.func.functional_call(
            layer, params, (query, key, value),
            {"attn_mask": attn_mask, "average_attn_weights": False})


    class MaskAsIs(TorchAdapter):
        """The canonical mask (True = attend) handed to nn.MultiheadAttention unchanged."""

        @implements("attn.multi_head")
        def my_mha(self, query, key, value, w_q, w_k, w_v, w_o, b_q=None, b_k=None,
                   b_v=None, b_o=None, mask=None, *, num_heads, average_weights=False,
                   masked_rows="zeros"):
            out, w = mha(query, key, value, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o, mask,
                         num_heads)
            return out, (w.mean(dim=1) if average_weights else w)


    class MaskInverted(TorchAdapter):
        """The same layer given ~mask (True = blocked), its own polarity."""

        @implements("attn.multi_head")
        def my_mha(self, query, key, value, w_q, w_k, w_v, w_o, b_q=None, b_k=None,
                   b_v=None, b_o=None, mask=None, *, num_heads, average_weights=False,
                   masked_rows="zeros"):
            out, w = mha(query, key, value, w_q, w_k, w_v, w_o, b_q, b_k, b_v, b_o,
                         None if mask is None else ~mask, num_heads)
            return out, (w.mean(dim=1) if average_weights else w)


    def attention(q, k, v, mask, bias, scale, is_causal, default_scale):
        s = q @ k.transpose(-1, -2)
        if scale is not None:
            s = s * scale
        elif default_scale:
            s = s * q.shape[-1] ** -0.5
        if bias is not None:
            s = s + bias
        allowed = torch.ones(s.shape, dtype=torch.bool)
        if mask is not None:
            allowed = allowed & mask
        if is_causal:
            allowed = allowed & torch.ones(s.shape[-2:], dtype=torch.bool).tril()
        return torch.softmax(s.masked_fill(~allowed, float("-inf")), dim=-1) @ v


    class NoDefaultScale(TorchAdapter):
        """softmax(Q K^T) V when no scale is given: the 1/sqrt(E) default forgotten."""

        @implements("attn.scaled_dot_product")
        def sdpa(self, q, k, v, mask=None, bias=None, *, scale=None, is_causal=False,
                 masked_rows="zeros"):
            return attention(q, k, v, mask, bias, scale, is_causal, False)


    class DefaultScale(TorchAdapter):
        """The same kernel with the default applied."""

        @implements("attn.scaled_dot_product")
        def sdpa(self, q, k, v, mask=None, bias=None, *, scale=None, is_causal=False,
                 masked_rows="zeros"):
            return attention(q, k, v, mask, bias, scale, is_causal, True)
''')

ARGS = ("--ops", "attn.multi_head", "--dtype", "float32", "--seed", "1", "-k", "test_forward")


@pytest.fixture
def user_pkg(tmp_path):
    (tmp_path / "planted_attention.py").write_text(ADAPTERS)
    return tmp_path


def test_mask_polarity_inverted_is_caught(user_pkg, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "planted_attention:MaskAsIs", *ARGS,
                           "--results", str(out), extra_path=user_pkg)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "attn.multi_head forward on torch" in proc.stdout
    assert "disagrees with the oracle" in proc.stdout
    (fail,) = [r for r in records(out) if r["verdict"] == "fail"]
    # The shrunk example has a mask: without one the polarity cannot matter.
    mask = [a for a in fail["case"]["args"] if a["name"] == "mask"][0]
    assert mask["data"] is not None and mask["dtype"] == "bool"
    # Blocked where it should attend: wrong weights, or NaN where a row is all blocked.
    assert fail["worst"]["output"] in ("output", "weights")


def test_the_correctly_inverted_mask_passes(user_pkg, tmp_path):
    proc = run_conformance("--backend", "planted_attention:MaskInverted", *ARGS,
                           "--results", str(tmp_path / "run"), extra_path=user_pkg)
    assert proc.returncode == 0, proc.stdout + proc.stderr


SCALE_ARGS = ("--ops", "attn.scaled_dot_product/causal", "--dtype", "float64", "--seed", "1",
              "--examples", "5")


def test_missing_default_scale_is_caught(user_pkg, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "planted_attention:NoDefaultScale", *SCALE_ARGS,
                           "-k", "test_forward", "--results", str(out), extra_path=user_pkg)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "attn.scaled_dot_product/causal forward on torch" in proc.stdout
    assert "disagrees with the oracle" in proc.stdout
    (fail,) = [r for r in records(out) if r["verdict"] == "fail"]
    assert fail["case"]["kwargs"]["scale"] is None
    # Scores off by a factor sqrt(E): another function, not rounding.
    assert fail["ratio"] > 1e6 and fail["max_abs_err"] > 1e-3


def test_default_scale_applied_passes(user_pkg, tmp_path):
    out = tmp_path / "run"
    proc = run_conformance("--backend", "planted_attention:DefaultScale", *SCALE_ARGS,
                           "--results", str(out), extra_path=user_pkg)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recs = records(out)
    assert recs and all(r["verdict"] == "pass" for r in recs)
    assert {r["mode"] for r in recs} == {"forward", "vjp", "jvp"}
