"""upscaler."""
