"""The built-in instant engine: mediapipe face geometry and matte lifted to Gaussians."""
