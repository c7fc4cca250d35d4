"""Fit and fill, the mat, clean snapshots and the HUD on both drawing paths (dummy driver)."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from installation.engine.steering import Keyframe
from installation.screen.display import DisplayLoop
from installation.screen.hud import Hud, ShowStatus, hud_font_px
from installation.screen.presentation import mat_bars, placement

MAT = (40, 90, 160)
MAT_HEX = "#285aa0"
WINDOW = (160, 90)  # 16:9, so a square painting leaves bars left and right in fit


def painting(seed: int, size: int = 64) -> np.ndarray:
    """A picture far from the mat colour everywhere (red and green, no blue)."""
    rng = np.random.default_rng(seed)
    image = np.zeros((size, size, 3), np.uint8)
    image[..., 0] = rng.integers(150, 256, (size, size))
    image[..., 1] = rng.integers(0, 100, (size, size))
    return image


def keyframe(image: np.ndarray, eeg_time: float = 1.0) -> Keyframe:
    zeros = np.zeros(1, np.float32)
    return Keyframe(image, eeg_time, 0.0, 0.0, zeros, zeros)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Feed:
    """Hands out the keyframes put into it, one per poll."""

    def __init__(self) -> None:
        self.queue: list[Keyframe] = []

    def __call__(self) -> Keyframe | None:
        return self.queue.pop(0) if self.queue else None


def press(key) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))


@pytest.fixture(params=["surface", "renderer"])
def path(request):
    return request.param


def open_loop(tmp_path, path: str, mode: str = "fit", window=WINDOW):
    feed, clock = Feed(), Clock()
    display = DisplayLoop(feed, ShowStatus("test", "cpu"), fps=0, window_size=window,
                          snapshot_dir=tmp_path / "snaps", clock=clock, mode=mode, mat=MAT_HEX,
                          path=path)
    display.open()
    return display, feed, clock


def is_mat(pixels: np.ndarray) -> np.ndarray:
    return np.all(pixels == MAT, axis=-1)


def test_fit_shows_the_mat_in_the_bars_and_the_painting_between(tmp_path, path):
    display, feed, clock = open_loop(tmp_path, path, "fit")
    try:
        assert display.screen.name == path
        feed.queue.append(keyframe(painting(0)))
        display.step()
        pixels = display.screen_pixels()
        _, dest = placement("fit", (64, 64), display.screen_size)
        for bar in mat_bars(dest, display.screen_size):
            assert is_mat(pixels[bar.top:bar.bottom, bar.left:bar.right]).all()
        inside = pixels[dest.top:dest.bottom, dest.left + 1:dest.right - 1]
        assert not is_mat(inside).any()
        assert inside[..., 0].min() > 120  # the painting's red, scaled
    finally:
        display.close()


def test_fill_covers_the_screen_without_a_mat(tmp_path, path):
    display, feed, clock = open_loop(tmp_path, path, "fill")
    try:
        feed.queue.append(keyframe(painting(0)))
        display.step()
        pixels = display.screen_pixels()
        assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
        assert not is_mat(pixels).any()
        assert pixels[..., 0].min() > 120
    finally:
        display.close()


def test_s_saves_the_blended_painting_at_its_own_size_without_hud_or_mat(tmp_path, path):
    display, feed, clock = open_loop(tmp_path, path, "fit")
    try:
        first, second = painting(1), painting(2)
        feed.queue.append(keyframe(first, 1.0))
        display.step()
        clock.now = 0.25
        feed.queue.append(keyframe(second, 1.25))
        display.step()
        press(pygame.K_h)
        display.step()
        clock.now = 0.25 + 0.125  # half way through the fade
        press(pygame.K_s)
        display.step()
        assert display.hud.visible
        (saved_path,) = display.snapshots
        saved = pygame.surfarray.array3d(pygame.image.load(str(saved_path))).swapaxes(0, 1)
        assert saved.shape == first.shape
        assert np.array_equal(saved, display.painting)
        assert not np.array_equal(saved, first) and not np.array_equal(saved, second)
        assert np.abs(saved.astype(int) - (first.astype(int) + second) / 2).max() <= 1
        assert not is_mat(saved).any()  # neither mat nor HUD box in it
    finally:
        display.close()


def test_the_hud_is_drawn_on_both_paths(tmp_path, path):
    display, feed, clock = open_loop(tmp_path, path, "fill")
    try:
        feed.queue.append(keyframe(painting(0)))
        display.step()
        plain = display.screen_pixels()
        press(pygame.K_h)
        clock.now = 1.0
        display.step()
        with_hud = display.screen_pixels()
        corner = np.s_[: 2 * display.hud.margin + 10, : 2 * display.hud.margin + 10]
        assert not np.array_equal(with_hud[corner], plain[corner])
        assert with_hud[corner].mean() < plain[corner].mean()  # the box darkens the painting
    finally:
        display.close()


def test_f_toggles_fullscreen_on_the_renderer_path(tmp_path):
    display, feed, clock = open_loop(tmp_path, "renderer", "fit")
    try:
        display.step()
        press(pygame.K_f)
        display.step()
        assert display.fullscreen
        assert display.screen_size == pygame.display.get_desktop_sizes()[0]
        press(pygame.K_f)
        display.step()
        assert not display.fullscreen
        assert display.screen_size == WINDOW
    finally:
        display.close()


def test_hud_font_grows_with_the_screen_height():
    assert hud_font_px(720) == 22
    assert hud_font_px(1080) > hud_font_px(720)
    assert hud_font_px(2160) == 3 * hud_font_px(720)
    assert hud_font_px(100) >= 12  # still legible on a tiny window


@pytest.mark.parametrize("heights", [(180, 720), (720, 2160)])
def test_the_hud_box_is_taller_on_a_taller_window(tmp_path, heights):
    boxes = []
    for height in heights:
        display, feed, clock = open_loop(tmp_path, "surface", window=(height * 16 // 9, height))
        try:
            press(pygame.K_h)
            display.step()
            boxes.append(display.hud.render(["59.9 fps"], 0.0).get_height())
        finally:
            display.close()
    assert boxes[1] > boxes[0]


def test_hud_text_is_re_rendered_at_most_every_refresh():
    pygame.display.init()
    try:
        hud = Hud(refresh_s=0.25)
        hud.toggle()
        first = hud.render(["59.9 fps"], 0.0)
        assert hud.render(["60.0 fps"], 0.1) is first  # changed, but too soon
        later = hud.render(["60.0 fps"], 0.3)
        assert later is not first
        assert hud.render(["60.0 fps"], 5.0) is later  # unchanged text: no new surface
        hud.toggle()
        assert hud.render(["60.0 fps"], 5.0) is None
    finally:
        pygame.display.quit()


def test_an_unchanged_frame_is_skipped_until_the_window_is_exposed(tmp_path):
    display, feed, clock = open_loop(tmp_path, "surface", "fit")
    try:
        feed.queue.append(keyframe(painting(0)))
        display.step()
        clock.now = 5.0  # the fade long done: the same picture from here on
        display.step()
        surface = pygame.display.get_surface()
        surface.fill((1, 2, 3))  # as if another window had been over it
        clock.now = 6.0
        display.step()
        assert tuple(surface.get_at((80, 45)))[:3] == (1, 2, 3)  # not drawn again
        pygame.event.post(pygame.event.Event(pygame.WINDOWEXPOSED))
        display.step()
        assert tuple(surface.get_at((2, 2)))[:3] == MAT
        assert surface.get_at((80, 45)).r > 120
    finally:
        display.close()


@pytest.mark.parametrize("path_name", ["surface", "renderer"])
def test_a_painting_the_size_of_the_window_is_shown_pixel_for_pixel(tmp_path, path_name):
    display, feed, clock = open_loop(tmp_path, path_name, "fit", window=(64, 64))
    try:
        image = np.random.default_rng(3).integers(0, 256, (64, 64, 3)).astype(np.uint8)
        feed.queue.append(keyframe(image))
        display.step()
        assert np.array_equal(display.screen_pixels(), image)  # channels in the right order
    finally:
        display.close()
