"""The row-chunked feed-forward computes diffusers' FeedForward, in chunks of bounded size."""

from __future__ import annotations

import torch
from diffusers.models.attention import FeedForward

from engine.mvdiffusion.feedforward import RowChunkedFeedForward, chunk_feed_forwards


def _feed_forward(dim: int = 32) -> FeedForward:
    torch.manual_seed(0)
    return FeedForward(dim, activation_fn="geglu").eval()


def test_chunks_give_the_same_values_in_bounded_pieces() -> None:
    ff = _feed_forward()
    x = torch.randn(3, 50, 32)  # 150 rows
    expected = ff(x)
    # 256 floats wide (GEGLU: 2 x 4 x 32): 1 KiB per row; 16 KiB -> chunks of 16 rows, last one 6
    chunked = RowChunkedFeedForward(ff.net, max_bytes=16 * 1024)
    seen: list[int] = []
    handle = chunked.net[0].register_forward_hook(lambda _m, args, _o: seen.append(args[0].shape[0]))
    got = chunked(x)
    handle.remove()
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)
    assert seen == [16] * 9 + [6]


def test_small_inputs_run_in_one_piece() -> None:
    ff = _feed_forward()
    x = torch.randn(2, 4, 32)
    assert torch.equal(RowChunkedFeedForward(ff.net)(x), ff(x))


def test_every_block_is_chunked_and_keeps_its_weights_and_keys() -> None:
    from diffusers.models.attention import BasicTransformerBlock

    blocks = torch.nn.ModuleList(
        [BasicTransformerBlock(32, 2, 16, cross_attention_dim=None) for _ in range(2)]
    )
    keys = list(blocks.state_dict())
    weight = blocks[0].ff.net[0].proj.weight
    assert chunk_feed_forwards(blocks) == 2
    assert all(isinstance(b.ff, RowChunkedFeedForward) for b in blocks)
    assert list(blocks.state_dict()) == keys
    assert blocks[0].ff.net[0].proj.weight is weight
