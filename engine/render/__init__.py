"""Gaussian rasterisation: gsplat on CUDA, a vectorised pure-torch rasteriser elsewhere."""
