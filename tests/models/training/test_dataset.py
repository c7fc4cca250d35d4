from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from installation.errors import ConfigError
from models.training.dataset import CropSettings, PaintingCrops


def test_crops_of_real_paintings_are_deterministic(few_paintings):
    settings = CropSettings(resolution=32, crops_per_image=3, seed=4)
    a = PaintingCrops(few_paintings, settings)
    b = PaintingCrops(few_paintings, settings, cache_limit_bytes=0)  # cut on the fly
    assert len(a) == 12 and a.image_count == 4
    assert a.cache is not None and b.cache is None
    assert a.batch([0, 5]).shape == (2, 3, 32, 32)
    assert np.array_equal(a[7].numpy(), b[7].numpy())
    assert a.batch(range(12)).float().std() > 10  # real picture content
    other = PaintingCrops(few_paintings, CropSettings(resolution=32, crops_per_image=3, seed=5))
    assert not np.array_equal(a.boxes, other.boxes)


def test_modes_become_rgb_and_bad_files_are_skipped_in_one_warning(tmp_path, caplog):
    Image.new("L", (80, 60), 128).save(tmp_path / "grey.png")
    Image.new("CMYK", (70, 70), (0, 255, 0, 0)).save(tmp_path / "cmyk.jpg")
    Image.new("RGBA", (64, 64), (255, 0, 0, 0)).save(tmp_path / "clear.webp")
    Image.new("RGB", (10, 10)).save(tmp_path / "tiny.png")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with caplog.at_level(logging.WARNING, logger="models.training.dataset"):
        crops = PaintingCrops(tmp_path, CropSettings(resolution=32, crops_per_image=2))
    assert crops.image_count == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "skipped 2 of 5" in warnings[0].getMessage()
    clear = crops.paintings[0]  # sorted: clear.webp, cmyk.jpg, grey.png
    assert clear.mode == "RGB" and clear.getpixel((5, 5)) == (255, 255, 255)


def test_empty_folder_is_one_sentence(tmp_path):
    with pytest.raises(ConfigError, match="holds no JPEG, PNG or WebP"):
        PaintingCrops(tmp_path, CropSettings(resolution=32))


def test_only_tiny_images_is_one_sentence(tmp_path, caplog):
    Image.new("RGB", (20, 20)).save(tmp_path / "a.png")
    with pytest.raises(ConfigError, match="lower --resolution"):
        PaintingCrops(tmp_path, CropSettings(resolution=32))
