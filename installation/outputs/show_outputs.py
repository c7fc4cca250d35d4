"""What leaves the show besides the screen: feeds (OSC, LSL), sound, a video file and NDI.

:class:`ShowOutputs` gathers the ones asked for, gives the steering thread one ``on_hop`` and
the display one ``offer_frame``, both returning at once, and adds their state to the HUD.
"""

from __future__ import annotations

from installation.eeg.feature_spec import FeatureSpec
from installation.outputs.feeds import FeedHub, hop_report
from installation.outputs.feeds.lsl_out import LslFeed
from installation.outputs.feeds.osc import OscFeed
from installation.outputs.ndi_out import NdiSender, import_ndi
from installation.outputs.sound_player import SoundPlayer
from installation.outputs.video_writer import LiveVideoWriter, check_output_file


class ShowOutputs:
    """The optional outbound parts of the show; with none, every method does nothing.

    Parameters
    ----------
    spec : FeatureSpec
        Bands and regions of the hops.
    hub : FeedHub, optional
        The OSC and LSL feeds.
    sound : SoundPlayer, optional
        Live sonification.
    video : LiveVideoWriter, optional
        The displayed painting into an MP4.
    ndi : NdiSender, optional
        The displayed painting as an NDI source.
    """

    def __init__(self, spec: FeatureSpec | None = None, hub: FeedHub | None = None, sound=None,
                 video=None, ndi=None) -> None:
        self.spec = spec
        self.hub = hub
        self.sound = sound
        self.video = video
        self.ndi = ndi

    @classmethod
    def open(cls, options, spec: FeatureSpec, on_event) -> ShowOutputs:
        """Open what ``options`` ask for (``osc``, ``lsl_out``, ``sound``, ``video``, ``ndi``).

        A bad ``HOST:PORT``, an unresolvable host or an unwritable video file is a ConfigError
        sentence here, before the show starts.
        """
        feeds = []
        if options.osc:
            feeds.append(OscFeed(options.osc, spec))
        if options.video:
            check_output_file(options.video, "--video", options.overwrite)
        if options.ndi:
            import_ndi()  # told now, before anything starts
        if options.lsl_out:
            feeds.append(LslFeed(options.lsl_out, spec))
        hub = FeedHub(feeds, on_event) if feeds else None
        sound = None
        if options.sound:
            sound = SoundPlayer(spec, on_event)
        video = None
        if options.video:
            video = LiveVideoWriter(options.video, options.fps, on_event,
                                    blocking=options.speed == "max")
        ndi = None
        if options.ndi:
            ndi = NdiSender(options.ndi, options.fps, on_event)
        return cls(spec, hub, sound, video, ndi)

    def on_hop(self, frame, worker) -> None:
        """Every hop's features, from the steering thread: to the feeds and the sound."""
        if self.hub is not None:
            self.hub.publish(hop_report(frame, self.spec, worker.signal_lost, worker.keyframes))
        if self.sound is not None:
            self.sound.set_band_powers(frame.band_powers)

    def offer_frame(self, painting, at: float | None = None) -> None:
        """A displayed painting for the video and NDI, where they are on.

        Parameters
        ----------
        painting : ndarray or None
            uint8 (H, W, 3); None offers nothing.
        at : float, optional
            When it was shown, for the video's timeline (see ``LiveVideoWriter.offer``); by
            default now, or the next frame offline.
        """
        if painting is None:
            return
        if self.video is not None:
            self.video.offer(painting, at)
        if self.ndi is not None:
            self.ndi.offer(painting)

    def status_lines(self) -> list[str]:
        """HUD lines of the outputs in use."""
        parts = (self.hub, self.sound, self.video, self.ndi)
        return [part.status_line() for part in parts if part is not None]

    def close(self) -> None:
        """Finish the video, stop the sound and the feeds; safe to call twice."""
        for part in (self.video, self.ndi, self.sound, self.hub):
            if part is not None:
                part.close()
