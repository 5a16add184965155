"""Multi-view diffusion: the FaceLift UNet attention, sampler and checkpoint loading."""
