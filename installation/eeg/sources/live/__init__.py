"""Live EEG sources: BrainFlow boards and LSL streams."""
