"""Training the generator.

The trainer and its loop, losses, augmentation, data, snapshots, run folders, and the
command line of train.py.
"""
