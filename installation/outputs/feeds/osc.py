"""``--osc HOST:PORT``: each hop as one OSC bundle over UDP (python-osc).

For TouchDesigner (OSC In CHOP/DAT), Max/MSP (``udpreceive``), Resolume and the like.

Address space (one bundle per hop, all values float32 unless said):

- ``/eeg/time``: EEG seconds of the hop;
- ``/eeg/band/<region>/<band>``: log10 µV² of one band in one region;
- ``/eeg/region/<region>``: the region's band powers, one argument per band, in band order;
- ``/eeg/share/<band>``: the band's share of the power, 0..1 (for 0..1 parameters);
- ``/eeg/steering``: the steering vector, region-major (``region/band`` order);
- ``/eeg/signal``: ``ok`` or ``lost`` (string);
- ``/eeg/keyframes``: paintings made so far (int32).
"""

from __future__ import annotations

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import UDPClient

from installation.eeg.feature_spec import FeatureSpec
from installation.errors import ConfigError

PREFIX = "/eeg"


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` as (host, port); a ConfigError sentence otherwise.

    Parameters
    ----------
    text : str
        E.g. ``127.0.0.1:9000`` or ``[::1]:9000``.
    """
    host, sep, port = str(text).strip().rpartition(":")
    host = host.strip("[]")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not sep or not host or not 1 <= number <= 65535:
        raise ConfigError(f"--osc {text!r} is not HOST:PORT; pass e.g. --osc 127.0.0.1:9000 "
                          "(port 1 to 65535).")
    return host, number


def osc_addresses(spec: FeatureSpec) -> list[str]:
    """Every address a hop's bundle holds, in order (for the README and tests)."""
    bands = spec.band_names
    return ([f"{PREFIX}/time"]
            + [f"{PREFIX}/band/{r}/{b}" for r in spec.regions for b in bands]
            + [f"{PREFIX}/region/{r}" for r in spec.regions]
            + [f"{PREFIX}/share/{b}" for b in bands]
            + [f"{PREFIX}/steering", f"{PREFIX}/signal", f"{PREFIX}/keyframes"])


class OscFeed:
    """Sends each hop as an OSC bundle to ``host:port``.

    Parameters
    ----------
    target : str
        ``HOST:PORT``; a name that does not resolve is a ConfigError sentence.
    spec : FeatureSpec
        Bands and regions of the reports.
    """

    def __init__(self, target: str, spec: FeatureSpec) -> None:
        self.host, self.port = parse_host_port(target)
        self.name = f"osc {self.host}:{self.port}"
        self.spec = spec
        self.bands = spec.band_names
        try:
            self._client = UDPClient(self.host, self.port)
        except (OSError, UnicodeError) as exc:
            raise ConfigError(f"--osc {target}: the host {self.host!r} cannot be resolved "
                              f"({exc}); pass an IP address or a known host name.") from None

    def send(self, report) -> None:
        """Send one hop's bundle (raises OSError when the network refuses it)."""
        self._client.send(self.bundle(report))

    def bundle(self, report):
        """The hop's OSC bundle."""
        builder = OscBundleBuilder(IMMEDIATELY)
        add = builder.add_content
        add(_message(f"{PREFIX}/time", [float(report.eeg_time)]))
        for r, region in enumerate(self.spec.regions):
            for b, band in enumerate(self.bands):
                add(_message(f"{PREFIX}/band/{region}/{band}", [float(report.band_powers[r, b])]))
        for r, region in enumerate(self.spec.regions):
            add(_message(f"{PREFIX}/region/{region}", [float(v) for v in report.band_powers[r]]))
        for b, band in enumerate(self.bands):
            add(_message(f"{PREFIX}/share/{band}", [float(report.shares[b])]))
        add(_message(f"{PREFIX}/steering", [float(v) for v in report.steering]))
        add(_message(f"{PREFIX}/signal", [report.signal]))
        add(_message(f"{PREFIX}/keyframes", [int(report.keyframes)]))
        return builder.build()

    def close(self) -> None:
        """Nothing to release beyond the socket, which Python closes."""


def _message(address: str, values: list):
    builder = OscMessageBuilder(address)
    for value in values:
        builder.add_arg(value)
    return builder.build()
