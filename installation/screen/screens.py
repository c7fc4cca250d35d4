"""The two ways the show puts a painting on the screen, behind one small interface.

- :class:`SurfaceScreen` scales on the CPU with pygame's SIMD ``smoothscale`` (bilinear), straight
  into the window's own pixels, and sends only what changed to the screen. It asks SDL for the
  plain window framebuffer (``SDL_FRAMEBUFFER_ACCELERATION=0``): with a software OpenGL (Mesa's
  llvmpipe, as in Xvfb or a machine without a graphics driver) SDL's default would push every
  frame through OpenGL, which made a 4K flip take 70-110 ms instead of 8 ms.
- :class:`RendererScreen` uploads the painting at its own size to a texture and lets SDL's
  renderer (``pygame._sdl2.video``) scale it, bilinear, on the graphics card.

:func:`open_screen` with ``path="auto"`` takes the renderer when it runs on a graphics card and
the surface otherwise: where OpenGL is a software rasterizer, the renderer scales on the CPU too,
slower than ``smoothscale`` (measured in ``benchmarks/display_bench.py``).

Each screen draws one frame with :meth:`draw` (the painting, its source and destination
rectangles, the mat colour, the HUD surface) and reads back what it shows with :meth:`pixels`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

import numpy as np
from pygame._sdl2 import video

from installation.screen.quiet_pygame import pygame

log = logging.getLogger(__name__)

PATHS = ("auto", "surface", "renderer")
SOFTWARE_GL_NAMES = ("llvmpipe", "softpipe", "swrast", "software", "lavapipe")
GL_RENDERER = 0x1F01  # glGetString's name for the OpenGL renderer string
# SDL_WINDOWPOS_CENTERED_DISPLAY(n): SDL's magic position for "centred on display n".
WINDOWPOS_CENTERED_MASK = 0x2FFF0000

Colour = tuple[int, int, int]


def image_surface(image: np.ndarray) -> pygame.Surface:
    """A pygame surface sharing the pixels of a uint8 (H, W, 3) RGB array (no copy)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = image.shape[:2]
    return pygame.image.frombuffer(image, (w, h), "RGB")


def surface_pixels(surface: pygame.Surface) -> np.ndarray:
    """The RGB pixels of ``surface`` as a uint8 (H, W, 3) array (a copy)."""
    return pygame.surfarray.array3d(surface).swapaxes(0, 1).copy()


class SurfaceScreen:
    """A pygame display surface; the painting scaled on the CPU straight into it.

    Parameters
    ----------
    title : str
        Window title.
    display : int
        Index of the screen to open on.
    window_size : (int, int)
        Size when not fullscreen.
    """

    name = "surface"

    def __init__(self, title: str, display: int, window_size: tuple[int, int]) -> None:
        self.title = title
        self.display = display
        self.window_size = tuple(window_size)
        self.surface: pygame.Surface | None = None
        self.fullscreen = False
        self._last: tuple | None = None  # what the previous frame drew
        self._hud_rect: pygame.Rect | None = None

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of the drawable area in pixels."""
        return self.surface.get_size()

    def open(self, fullscreen: bool) -> None:
        """Open the window (pygame's display must be initialised)."""
        # The plain window framebuffer (shared memory on X11): see the module's docstring.
        os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
        pygame.display.set_caption(self.title)
        self.set_fullscreen(fullscreen)

    def set_fullscreen(self, fullscreen: bool) -> None:
        """Switch between fullscreen at the desktop's size and the window size."""
        self.fullscreen = fullscreen
        if fullscreen:
            self.surface = pygame.display.set_mode((0, 0), pygame.FULLSCREEN,
                                                   display=self.display)
        else:
            self.surface = pygame.display.set_mode(self.window_size, 0, display=self.display)
            if self.surface.get_size() != self.window_size:
                # SDL 2 leaves fullscreen at the desktop size first; asking again resizes.
                self.surface = pygame.display.set_mode(self.window_size, 0, display=self.display)
        self._last = None  # a new surface: draw everything, mat included
        self._hud_rect = None

    def draw(self, image: np.ndarray | None, source: pygame.Rect | None,
             destination: pygame.Rect | None, mat: Colour,
             hud: pygame.Surface | None = None, hud_at: tuple[int, int] = (0, 0)) -> None:
        """Draw one frame and show it; a frame identical to the last one costs nothing.

        Parameters
        ----------
        image : ndarray or None
            uint8 (H, W, 3) painting (None: only the mat).
        source, destination : pygame.Rect or None
            Part of the painting to show, and where on the screen (see
            :mod:`installation.screen.presentation`).
        mat : (int, int, int)
            Colour of the screen around the painting.
        hud : pygame.Surface, optional
            The HUD box (with alpha), drawn over everything.
        hud_at : (int, int)
            Top-left corner of the HUD box on the screen.
        """
        geometry = (None if source is None else tuple(source),
                    None if destination is None else tuple(destination), tuple(mat))
        if self._last is not None and image is self._last[0] and hud is self._last[1] \
                and (geometry, hud_at) == self._last[2:]:
            return  # the same picture, HUD and geometry: the screen already shows it
        screen = self.surface
        dirty: list[pygame.Rect] = []
        if self._last is None or geometry != self._last[2]:
            screen.fill(mat)  # geometry or mat changed: repaint the whole screen once
            dirty.append(screen.get_rect())
        elif self._hud_rect is not None:
            screen.fill(mat, self._hud_rect)  # the mat under last frame's HUD box
            dirty.append(self._hud_rect)
        if image is not None and destination is not None:
            self._scale_into(image_surface(image), source, destination)
            dirty.append(destination)
        self._hud_rect = None
        if hud is not None:
            self._hud_rect = screen.blit(hud, hud_at)
            dirty.append(self._hud_rect)
        pygame.display.update(dirty)
        self._last = (image, hud, geometry, hud_at)

    def invalidate(self) -> None:
        """Draw the whole next frame, even an unchanged one (the window was uncovered)."""
        self._last = None

    def _scale_into(self, painting: pygame.Surface, source: pygame.Rect,
                    destination: pygame.Rect) -> None:
        screen = self.surface
        visible = destination.clip(screen.get_rect())
        if destination.size == source.size:
            screen.blit(painting, destination.topleft, source)
            return
        if screen.get_bitsize() == 32 and visible == destination:
            # 32-bit in, 32-bit out, written straight into the window's pixels: no
            # intermediate surface and no blit (a third of the time at 4K).
            painting = painting.convert(screen)
            pygame.transform.smoothscale(painting.subsurface(source), destination.size,
                                         screen.subsurface(destination))
            return
        painting = painting.convert(32) if painting.get_bitsize() != 32 else painting
        scaled = pygame.transform.smoothscale(painting.subsurface(source), destination.size)
        screen.blit(scaled, destination.topleft)

    def pixels(self) -> np.ndarray:
        """What the window shows, uint8 (H, W, 3)."""
        return surface_pixels(self.surface)

    def close(self) -> None:
        """Forget the surface (the display module is closed by the caller)."""
        self.surface = None


class RendererScreen:
    """An SDL window and renderer; the painting a texture scaled by the graphics card.

    Parameters
    ----------
    title : str
        Window title.
    display : int
        Index of the screen to open on.
    window_size : (int, int)
        Size when not fullscreen.
    driver : str, optional
        SDL render driver name (``"opengl"``, ``"software"``...); SDL's choice when None.
    """

    name = "renderer"

    def __init__(self, title: str, display: int, window_size: tuple[int, int],
                 driver: str | None = None) -> None:
        self.title = title
        self.display = display
        self.window_size = tuple(window_size)
        self.driver = driver
        self.window: video.Window | None = None
        self.renderer: video.Renderer | None = None
        self.fullscreen = False
        self._texture: video.Texture | None = None
        self._texture_image: np.ndarray | None = None  # the image the texture holds
        self._hud_texture: video.Texture | None = None
        self._hud_surface: pygame.Surface | None = None
        self._last_args: tuple | None = None

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of the drawable area in pixels."""
        return self.renderer.get_viewport().size

    def open(self, fullscreen: bool) -> None:
        """Create the window and its renderer; raises pygame.error where SDL cannot."""
        # Bilinear scaling of textures created from here on (SDL reads the hint per texture).
        if os.environ.get("SDL_RENDER_SCALE_QUALITY") not in ("1", "2", "linear", "best"):
            os.environ["SDL_RENDER_SCALE_QUALITY"] = "linear"
        self.window = video.Window(self.title, self.window_size, position=self._centred)
        index = driver_index(self.driver) if self.driver else -1
        try:
            self.renderer = video.Renderer(self.window, index=index, accelerated=-1)
        except Exception:
            self.window.destroy()
            self.window = None
            raise
        self.set_fullscreen(fullscreen)

    @property
    def _centred(self) -> tuple[int, int]:
        """SDL's position for "centred on the chosen display"."""
        return (WINDOWPOS_CENTERED_MASK | self.display,) * 2

    def set_fullscreen(self, fullscreen: bool) -> None:
        """Switch between fullscreen at the desktop's size and the window size.

        The window is sized and placed first: on an X server without a window manager (Xvfb,
        a kiosk) SDL's fullscreen flag alone leaves the window at its old size.
        """
        self.fullscreen = fullscreen
        if fullscreen:
            self.window.size = pygame.display.get_desktop_sizes()[self.display]
            self.window.position = self._centred
            self.window.set_fullscreen(desktop=True)
        else:
            self.window.set_windowed()
            self.window.size = self.window_size
            self.window.position = self._centred

    def draw(self, image: np.ndarray | None, source: pygame.Rect | None,
             destination: pygame.Rect | None, mat: Colour,
             hud: pygame.Surface | None = None, hud_at: tuple[int, int] = (0, 0)) -> None:
        """Draw one frame and present it (arguments as :meth:`SurfaceScreen.draw`)."""
        self._last_args = (image, source, destination, mat, hud, hud_at)
        self._render(*self._last_args)
        self.renderer.present()

    def invalidate(self) -> None:
        """Nothing to do: every frame is drawn whole."""

    def _render(self, image, source, destination, mat, hud, hud_at) -> None:
        renderer = self.renderer
        renderer.draw_color = (*mat, 255)
        renderer.clear()
        if image is not None and destination is not None:
            texture = self._painting_texture(image)
            texture.draw(srcrect=source, dstrect=destination)
        if hud is not None:
            if hud is not self._hud_surface:  # re-rendered text: a new texture
                self._hud_texture = video.Texture.from_surface(renderer, hud)
                self._hud_surface = hud
            self._hud_texture.draw(dstrect=pygame.Rect(hud_at, hud.get_size()))

    def _painting_texture(self, image: np.ndarray) -> video.Texture:
        h, w = image.shape[:2]
        if self._texture is None or (self._texture.width, self._texture.height) != (w, h):
            self._texture = video.Texture(self.renderer, (w, h), streaming=True)
            self._texture_image = None
        if image is not self._texture_image:  # upload only a new picture
            self._texture.update(image_surface(image))
            self._texture_image = image
        return self._texture

    def pixels(self) -> np.ndarray:
        """What the last frame showed, uint8 (H, W, 3), drawn again and read back."""
        if self._last_args is not None:
            self._render(*self._last_args)  # after present the back buffer is undefined
        return surface_pixels(self.renderer.to_surface())

    def close(self) -> None:
        """Destroy the textures, the renderer and the window."""
        self._texture = self._hud_texture = None
        self.renderer = None
        if self.window is not None:
            self.window.destroy()
            self.window = None


def driver_index(name: str) -> int:
    """Index of SDL's render driver ``name``; a ValueError naming those there are."""
    names = [info.name for info in video.get_drivers()]
    if name not in names:
        raise ValueError(f"SDL has no render driver {name!r} (it has {', '.join(names)}).")
    return names.index(name)


def hardware_driver_names() -> list[str]:
    """SDL's render drivers that may run on a graphics card, in SDL's order of preference."""
    return [info.name for info in video.get_drivers() if info.name != "software"]


def gl_renderer_name() -> str | None:
    """The current OpenGL context's renderer string (e.g. ``llvmpipe (LLVM 15...)``), or None.

    Read with ``glGetString`` from the system's OpenGL library; None where there is none or no
    context is current.
    """
    for name in (ctypes.util.find_library("GL"), "libGL.so.1", "libGLESv2.so.2", "opengl32"):
        if not name:
            continue
        try:
            gl = ctypes.CDLL(name)
        except OSError:
            continue
        gl.glGetString.restype = ctypes.c_char_p
        gl.glGetString.argtypes = [ctypes.c_uint]
        value = gl.glGetString(GL_RENDERER)
        return value.decode(errors="replace") if value else None
    return None


def is_software_gl(renderer_name: str | None) -> bool:
    """True when an OpenGL renderer string names a CPU rasterizer (Mesa's llvmpipe...)."""
    return renderer_name is not None and any(word in renderer_name.lower()
                                             for word in SOFTWARE_GL_NAMES)


def open_screen(path: str, title: str, display: int, window_size: tuple[int, int],
                fullscreen: bool) -> SurfaceScreen | RendererScreen:
    """Open the window by ``path``: ``"surface"``, ``"renderer"`` or ``"auto"``.

    ``auto`` tries the graphics card's renderer and keeps it only when OpenGL (where that is
    what SDL took) is not a software rasterizer; otherwise, or when SDL cannot make a renderer
    (the dummy video driver), it opens the surface path.

    Parameters
    ----------
    path : {"auto", "surface", "renderer"}
        Which drawing path.
    title, display, window_size, fullscreen
        As :class:`SurfaceScreen`.

    Returns
    -------
    SurfaceScreen or RendererScreen
        The open screen.
    """
    if path not in PATHS:
        raise ValueError(f"Unknown display path {path!r}; use one of {', '.join(PATHS)}.")
    if path == "renderer":
        screen = RendererScreen(title, display, window_size)
        screen.open(fullscreen)
        return screen
    if path == "auto":
        screen = _graphics_card_renderer(title, display, window_size, fullscreen)
        if screen is not None:
            return screen
    screen = SurfaceScreen(title, display, window_size)
    screen.open(fullscreen)
    return screen


def probe_gl_renderer(driver: str) -> str | None:
    """The OpenGL renderer string behind SDL's render driver ``driver``, from a hidden window.

    Returns None for drivers that are not OpenGL; raises where SDL cannot make the renderer.
    """
    window = video.Window("probe", (16, 16), hidden=True)
    try:
        renderer = video.Renderer(window, index=driver_index(driver), accelerated=-1)
        name = gl_renderer_name() if driver.startswith("opengl") else None
        del renderer
        return name
    finally:
        window.destroy()


def _graphics_card_renderer(title, display, window_size, fullscreen) -> RendererScreen | None:
    """A renderer on the graphics card, or None where there is only a CPU to render."""
    if pygame.display.get_driver() in ("dummy", "offscreen"):
        return None
    for driver in hardware_driver_names():
        try:
            gl_name = probe_gl_renderer(driver)
        except Exception as exc:  # noqa: BLE001 - SDL says why in many ways; try the next
            log.debug("render driver %s: %s", driver, exc)
            continue
        if is_software_gl(gl_name):
            log.info("OpenGL renders on the CPU (%s): scaling with smoothscale instead", gl_name)
            return None
        screen = RendererScreen(title, display, window_size, driver)
        screen.open(fullscreen)
        log.info("display: SDL renderer %s%s", driver, f" ({gl_name})" if gl_name else "")
        return screen
    return None
