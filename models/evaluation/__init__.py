"""The figures of a generator's paintings.

SWD and nearest training crops, Inception features, stroke direction.
"""
