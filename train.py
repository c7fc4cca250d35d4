"""Train the painting generator on the artist's paintings and EEG (StyleGAN2-ADA).

    python train.py --images PAINTINGS --eeg rest.edf [--eeg more.xdf ...] --outdir runs
    python train.py --resume runs/00000-128-128px [--kimg K]
    python train.py --resume BUNDLE --adapt mapping --eeg SESSION [...] --outdir runs
    torchrun --nproc_per_node N train.py ...

The command line lives in :mod:`models.training.cli` (``--help`` lists every option).
"""

import sys

from installation.errors import run_cli
from models.training.cli import main

if __name__ == "__main__":
    sys.exit(run_cli(main))
