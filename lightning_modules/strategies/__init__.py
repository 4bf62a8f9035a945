"""Training schemes that need control of the forward passes (gradient caching, ...)."""
