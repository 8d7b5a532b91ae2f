"""A progress display for long runs: tqdm's bar where tqdm is installed, else a percentage on stderr."""

import sys


class ProgressBar:
    """Pass as ``model.run(progress=rall.ProgressBar())``; it closes itself when the run is done."""

    def __init__(self, description="simulating"):
        self._description = description
        self._percent = 0
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._bar = None
        else:
            self._bar = tqdm(total=100, desc=description, unit="%")

    def __call__(self, fraction):
        percent = int(fraction * 100)
        if self._bar is not None:
            self._bar.update(percent - self._percent)
        elif percent != self._percent:
            print(f"\r{self._description} {percent:3d}%", end="", file=sys.stderr, flush=True)
        self._percent = percent
        if percent >= 100:
            self.close()

    def close(self):
        if self._bar is not None:
            self._bar.close()
        elif self._percent:
            print(file=sys.stderr)
            self._percent = 0
