"""Meshes of Gaussian heads: depth/colour fusion (fuse.py), vertex colours and UV textures
(colour.py). trimesh, scikit-image, fast-simplification and xatlas are imported only when a
mesh is made."""
