"""GS-LRM: the feed-forward reconstructor (six views -> pixel-aligned Gaussians)."""
