"""region_of: electrode names to scalp regions."""

from __future__ import annotations

import pytest

from installation.eeg.feature_spec import DEFAULT_REGIONS
from installation.eeg.montage import region_of, regions_of

NAMES_BY_REGION = {
    "frontal": "Fp1 FPz AF7 AF8 F3 Fz",
    "central": "FC5 FCz C3 Cz",
    "temporal": "T7 T3 T4 T5 T6 FT8 TP7 TP9 TP10",
    "parietal": "CP1 CPz P3 Pz",
    "occipital": "PO7 POz O1 Oz Iz",
}
CASES = [(name, region) for region, names in NAMES_BY_REGION.items() for name in names.split()]


@pytest.mark.parametrize("name, region", CASES)
def test_standard_names_map_to_their_region(name, region):
    assert region_of(name) == region
    assert region in DEFAULT_REGIONS


@pytest.mark.parametrize("name", ["fc5", "FC5", "Fc5.", "Cz..", "EEG Fp1", "oZ", " O2 "])
def test_case_padding_and_tags_do_not_matter(name):
    assert region_of(name) is not None


@pytest.mark.parametrize(
    "name", ["EXG Channel 0", "EEG1", "A1", "A2", "M1", "Right AUX", "ECG", "", "X", "Cz5z"]
)
def test_names_that_are_no_electrode_position_have_no_region(name):
    assert region_of(name) is None


def test_a_referenced_pair_counts_its_first_electrode():
    assert region_of("O1-A2") == "occipital"
    assert region_of("EEG A2-A1") is None


def test_the_physionet_cap_covers_every_region():
    cap = (
        "FC5 FC3 FC1 FCz FC2 FC4 FC6 C5 C3 C1 Cz C2 C4 C6 CP5 CP3 CP1 CPz CP2 CP4 CP6 Fp1 "
        "Fpz Fp2 AF7 AF3 AFz AF4 AF8 F7 F5 F3 F1 Fz F2 F4 F6 F8 FT7 FT8 T7 T8 T9 T10 TP7 TP8 "
        "P7 P5 P3 P1 Pz P2 P4 P6 P8 PO7 PO3 POz PO4 PO8 O1 Oz O2 Iz"
    ).split()
    regions = regions_of(cap)
    assert None not in regions
    assert set(regions) == set(DEFAULT_REGIONS)
