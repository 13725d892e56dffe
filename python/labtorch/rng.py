"""The lab's random generator (src/model/rng.ts), bit for bit: mulberry32 with a mixed seed.

Everything the lab draws (graphs, sums, batches, diffusion masks, initial weights) comes from this generator, so
porting it exactly is what makes the same seed give the same data here as in the browser. JavaScript does this
arithmetic in 32-bit integers; Python's integers are unbounded, so every step is masked back to 32 bits.
"""
import math

import numpy

MASK32 = 0xFFFFFFFF


class Rng:
    def __init__(self, seed):
        # Mix the seed once so that nearby seeds start far apart.
        self.state = (int(seed) ^ 0x9E3779B9) & MASK32
        self.next_u32()

    def next_u32(self):
        """Uniform integer in [0, 2^32)."""
        self.state = (self.state + 0x6D2B79F5) & MASK32
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & MASK32  # Math.imul
        m = ((t ^ (t >> 7)) * (t | 61)) & MASK32
        t ^= (t + m) & MASK32
        return (t ^ (t >> 14)) & MASK32

    def next(self):
        """Uniform float in [0, 1)."""
        return self.next_u32() / 4294967296

    def next_many(self, k):
        """k uniform floats in [0, 1), the same as k calls of next(), computed at once: mulberry32's state only
        advances by a constant, so the i-th output is a function of state + i·0x6D2B79F5 alone."""
        if k <= 0:
            return []
        steps = numpy.arange(1, k + 1, dtype=numpy.uint64)
        t = (numpy.uint64(self.state) + steps * numpy.uint64(0x6D2B79F5)) & numpy.uint64(MASK32)
        self.state = int(t[-1])
        m32 = numpy.uint64(MASK32)
        t = ((t ^ (t >> numpy.uint64(15))) * (t | numpy.uint64(1))) & m32
        m = ((t ^ (t >> numpy.uint64(7))) * (t | numpy.uint64(61))) & m32
        t ^= (t + m) & m32
        return (((t ^ (t >> numpy.uint64(14))) & m32) / 4294967296.0).tolist()

    def int(self, n):
        """Uniform integer in [0, n)."""
        return math.floor(self.next() * n)

    def normal(self):
        """Standard normal by Box-Muller, one value per call (the same two draws as the lab)."""
        u1 = 1 - self.next()
        u2 = self.next()
        return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)

    def shuffle(self, a):
        """Fisher-Yates in place, from the end, as the lab."""
        for i in range(len(a) - 1, 0, -1):
            j = self.int(i + 1)
            a[i], a[j] = a[j], a[i]
        return a

    def fork(self):
        """A child generator with an independent stream."""
        return Rng(self.next_u32())


def data_seed(seed):
    """The seed of the lanes' shared data stream (src/lab/lane.ts)."""
    return (int(seed) ^ 0x5EEDDA7A) & MASK32


def objective_seed(seed):
    """The seed of an objective's own random stream (diffusion's masks)."""
    return (int(seed) ^ 0x0B1EC71E) & MASK32
