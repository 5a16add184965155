"""Multi-view diffusion: the FaceLift UNet attention, sampler and checkpoint loading."""

# diffusers leaves a marker file in the Hugging Face cache when it is imported; transformers, seeing
# that cache non-empty, then "migrates" it and announces so on stderr. Importing transformers' hub
# module first keeps a new user's first FaceLift run free of that message (we never use the cache).
import transformers.utils.hub  # noqa: F401
