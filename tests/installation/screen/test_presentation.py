from __future__ import annotations

import pytest
from pygame import Rect

from installation.screen.presentation import fill_rects, fit_rects, mat_bars, placement

PAINTING = (512, 512)
LANDSCAPE, PORTRAIT, SQUARE = (1920, 1080), (1080, 1920), (1000, 1000)
SCREENS = [LANDSCAPE, PORTRAIT, SQUARE, (3840, 2160), (1366, 768), (600, 1024), (97, 61)]
PAINTINGS = [PAINTING, (128, 128), (640, 360), (300, 500)]


def test_fit_centres_the_whole_painting_on_a_landscape_screen():
    assert fit_rects(PAINTING, LANDSCAPE) == (Rect(0, 0, 512, 512), Rect(420, 0, 1080, 1080))


def test_fit_centres_the_whole_painting_on_a_portrait_screen():
    assert fit_rects(PAINTING, PORTRAIT) == (Rect(0, 0, 512, 512), Rect(0, 420, 1080, 1080))


def test_fit_fills_a_square_screen():
    assert fit_rects(PAINTING, SQUARE) == (Rect(0, 0, 512, 512), Rect(0, 0, 1000, 1000))


def test_fill_crops_top_and_bottom_on_a_landscape_screen():
    # 1920/512 = 3.75 screen pixels per painting pixel: 1080 / 3.75 = 288 rows show
    assert fill_rects(PAINTING, LANDSCAPE) == (Rect(0, 112, 512, 288), Rect(0, 0, 1920, 1080))


def test_fill_crops_the_sides_on_a_portrait_screen():
    assert fill_rects(PAINTING, PORTRAIT) == (Rect(112, 0, 288, 512), Rect(0, 0, 1080, 1920))


def test_fill_keeps_the_whole_painting_on_a_square_screen():
    assert fill_rects(PAINTING, SQUARE) == (Rect(0, 0, 512, 512), Rect(0, 0, 1000, 1000))


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("painting", PAINTINGS)
def test_fit_keeps_the_aspect_inside_the_screen_and_centred(painting, screen):
    source, dest = fit_rects(painting, screen)
    assert source == Rect((0, 0), painting)
    assert Rect((0, 0), screen).contains(dest)
    assert dest.width == screen[0] or dest.height == screen[1]  # as large as it can be
    assert abs(dest.width / dest.height - painting[0] / painting[1]) < 2 / min(dest.size)
    assert abs(dest.left - (screen[0] - dest.right)) <= 1
    assert abs(dest.top - (screen[1] - dest.bottom)) <= 1


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("painting", PAINTINGS)
def test_fill_covers_the_screen_with_a_centred_crop_of_its_aspect(painting, screen):
    source, dest = fill_rects(painting, screen)
    assert dest == Rect((0, 0), screen)
    assert Rect((0, 0), painting).contains(source)
    assert source.width == painting[0] or source.height == painting[1]  # crops one way only
    assert abs(source.width / source.height - screen[0] / screen[1]) < 2 / min(source.size)
    assert abs(source.left - (painting[0] - source.right)) <= 1
    assert abs(source.top - (painting[1] - source.bottom)) <= 1


@pytest.mark.parametrize("screen", SCREENS)
def test_mat_bars_cover_exactly_the_screen_outside_a_fitted_painting(screen):
    _, dest = placement("fit", PAINTING, screen)
    bars = mat_bars(dest, screen)
    assert sum(b.width * b.height for b in bars) + dest.width * dest.height == screen[0] * screen[1]
    assert not any(b.colliderect(dest) for b in bars)
    assert not any(a.colliderect(b) for i, a in enumerate(bars) for b in bars[i + 1:])


@pytest.mark.parametrize("screen", SCREENS)
def test_fill_leaves_no_mat(screen):
    _, dest = placement("fill", PAINTING, screen)
    assert mat_bars(dest, screen) == []


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="fit, fill"):
        placement("stretch", PAINTING, LANDSCAPE)
