"""File formats: PLY, .splat, images, video."""
